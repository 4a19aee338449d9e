/**
 * The scopes of Gatehouse's tokens. What a token may reach is decided by its audience (the
 * servers granted), so one scope says "use MCP servers"; unknown scopes asked for are ignored.
 */
export const SUPPORTED_SCOPES: readonly string[] = ['mcp'];
