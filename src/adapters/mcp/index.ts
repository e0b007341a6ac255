/**
 * MCP: the gateway's tools on an MCP server you own, or on a hardened HTTP endpoint.
 *
 * @packageDocumentation
 */
export { registerGatewayTools, type McpAdapterOptions, type McpToolNames } from './tools.js';
export { serveMcpHttp, type McpHttpOptions, type McpHttpServer } from './http.js';
