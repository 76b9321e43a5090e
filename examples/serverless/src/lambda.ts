import type { APIGatewayProxyHandlerV2 } from "aws-lambda";
import { chatInstance } from "./instance";
import { toLambdaHandler } from "./lambda-adapter";

// The deployable function on AWS Lambda behind an API Gateway HTTP API (payload format 2.0): set the function's
// handler to `lambda.handler`. It shares the lazily created guard with the Web handler in `handler.ts`.
export const handler = toLambdaHandler(async () => (await chatInstance()).chat) satisfies APIGatewayProxyHandlerV2;
