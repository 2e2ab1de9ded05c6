// Calls Portico's @connections API with the AWS SDK for JavaScript's
// ApiGatewayManagementApi client, unchanged. Run by Portico's Go tests:
//
//	ENDPOINT=http://127.0.0.1:PORT/prod CONNECTION_ID=... \
//	AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... node connections.mjs STEP
//
// STEP is "post" (posts "hello from js" then "second"), "get", "delete" or
// "post-gone". It prints one JSON line: {"ok":true,...} or
// {"ok":false,"name":...,"status":...,"message":...}.
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

const client = new ApiGatewayManagementApiClient({
  endpoint: process.env.ENDPOINT,
  region: "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1,
});
const ConnectionId = process.env.CONNECTION_ID;

async function step(name) {
  switch (name) {
    case "post":
      await client.send(new PostToConnectionCommand({ ConnectionId, Data: new TextEncoder().encode("hello from js") }));
      await client.send(new PostToConnectionCommand({ ConnectionId, Data: "second" }));
      return {};
    case "get": {
      const out = await client.send(new GetConnectionCommand({ ConnectionId }));
      return {
        connectedAt: out.ConnectedAt.toISOString(),
        lastActiveAt: out.LastActiveAt.toISOString(),
        sourceIp: out.Identity.SourceIp,
        userAgent: out.Identity.UserAgent,
      };
    }
    case "delete":
      await client.send(new DeleteConnectionCommand({ ConnectionId }));
      return {};
    case "post-gone":
      await client.send(new PostToConnectionCommand({ ConnectionId, Data: "late" }));
      return {};
  }
  throw new Error("unknown step " + name);
}

try {
  const out = await step(process.argv[2]);
  console.log(JSON.stringify({ ok: true, ...out }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }));
}
