import type { AgentLimits } from "../../src/contract/index.ts";
import { createEditFileTool } from "./edit-file-tool.ts";
import { createGlobTool, createListDirTool } from "./glob-tool.ts";
import { createReadFileTool } from "./read-file-tool.ts";
import { createRunCommandTool } from "./run-command-tool.ts";
import { createSearchTool } from "./search-tool.ts";
import type { Tool } from "./tool.ts";
import { createWriteFileTool } from "./write-file-tool.ts";

/** The agent's tool set over one workspace root. */
export function createTools(root: string, limits: Pick<AgentLimits, "commandTimeoutMs">): Tool[] {
  return [
    createReadFileTool({ root }),
    createWriteFileTool({ root }),
    createEditFileTool({ root }),
    createRunCommandTool({ root, timeoutMs: limits.commandTimeoutMs }),
    createSearchTool({ root }),
    createGlobTool({ root }),
    createListDirTool({ root }),
  ];
}
