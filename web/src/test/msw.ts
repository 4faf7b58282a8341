// The component tests' network: MSW's request interception for fetch and XMLHttpRequest, and its
// WebSocket interception, in Node. `setup.ts` starts it for every test file; a test (or the
// fake server in ./server.ts) adds its handlers with `network.use(...)`, dropped after each test.
import { setupServer } from 'msw/node';

export const network = setupServer();
