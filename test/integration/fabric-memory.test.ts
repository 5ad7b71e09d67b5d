import { pino } from "pino";
import { createBus } from "../../src/platform/bus/index.js";
import { fabricContract } from "../contract/fabric.contract.js";

fabricContract("memory", () => createBus({ name: "test-fabric", logger: pino({ level: "silent" }) }));
