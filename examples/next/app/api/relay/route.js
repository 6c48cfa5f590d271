// The handler is TypeScript, in handlers/ (see README.md for why app/ holds only these re-exports).
export { GET, POST } from '../../../handlers/relay'
