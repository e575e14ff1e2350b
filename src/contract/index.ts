export * from "./messages.ts";
export * from "./protocol.ts";
