import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  AgentService,
  ResultsChunkSchema,
  ResultsRequestSchema,
  ResultsResponseSchema,
  StatusRequestSchema,
  StatusResponseSchema,
  SweepCompletionStatus_StatusSchema,
  SweepCompletionStatusSchema,
} from "../../src/grpc/gen/monitoring/monitoring_pb.js";
import { Health } from "../../src/grpc/gen/grpc/health/v1/health_pb.js";

/**
 * ServiceRadar's grpc-go pollers and agents only understand Sonde's if every field keeps its
 * number and type: these tests fail on a renumbering, a retyping or a rename in the proto.
 */

/** A protobuf tag byte: field number and wire type (0 varint, 2 length-delimited). */
const tag = (field: number, wireType: 0 | 2) => (field << 3) | wireType;
const str = (field: number, value: string) => [tag(field, 2), value.length, ...Buffer.from(value)];

describe("monitoring proto wire format", () => {
  it("encodes StatusRequest with ServiceRadar's field numbers", () => {
    const bytes = toBinary(
      StatusRequestSchema,
      create(StatusRequestSchema, {
        serviceName: "a",
        serviceType: "b",
        agentId: "c",
        pollerId: "d",
        details: "e",
        port: 22,
      }),
    );
    expect([...bytes]).toEqual([
      ...str(1, "a"),
      ...str(2, "b"),
      ...str(3, "c"),
      ...str(4, "d"),
      ...str(5, "e"),
      tag(6, 0),
      22,
    ]);
  });

  it("decodes a StatusResponse written by hand the way grpc-go would", () => {
    const bytes = Uint8Array.from([
      tag(1, 0),
      1,
      ...str(2, "{}"),
      ...str(3, "s"),
      ...str(4, "port"),
      tag(5, 0),
      0xe8,
      0x07, // 1000 ns
      ...str(6, "ag"),
      ...str(7, "po"),
    ]);
    const m = fromBinary(StatusResponseSchema, bytes);
    expect(m.available).toBe(true);
    expect(Buffer.from(m.message).toString()).toBe("{}");
    expect([m.serviceName, m.serviceType, m.agentId, m.pollerId]).toEqual(["s", "port", "ag", "po"]);
    expect(m.responseTime).toBe(1000n);
  });

  it("encodes ResultsChunk with ServiceRadar's field numbers", () => {
    const bytes = toBinary(
      ResultsChunkSchema,
      create(ResultsChunkSchema, {
        data: Uint8Array.from([9]),
        isFinal: true,
        chunkIndex: 2,
        totalChunks: 3,
        currentSequence: "7",
        timestamp: 5n,
      }),
    );
    expect([...bytes]).toEqual([
      tag(1, 2),
      1,
      9,
      tag(2, 0),
      1,
      tag(3, 0),
      2,
      tag(4, 0),
      3,
      ...str(5, "7"),
      tag(6, 0),
      5,
    ]);
  });

  it("keeps every field's number, name and scalar type", () => {
    const fields = (schema: {
      fields: readonly { number: number; name: string; fieldKind: string; scalar?: number }[];
    }) => schema.fields.map((f) => `${f.number}:${f.name}:${f.fieldKind}`);
    expect(fields(StatusRequestSchema)).toEqual([
      "1:service_name:scalar",
      "2:service_type:scalar",
      "3:agent_id:scalar",
      "4:poller_id:scalar",
      "5:details:scalar",
      "6:port:scalar",
    ]);
    expect(fields(StatusResponseSchema)).toEqual([
      "1:available:scalar",
      "2:message:scalar",
      "3:service_name:scalar",
      "4:service_type:scalar",
      "5:response_time:scalar",
      "6:agent_id:scalar",
      "7:poller_id:scalar",
    ]);
    expect(fields(ResultsRequestSchema)).toEqual([
      "1:service_name:scalar",
      "2:service_type:scalar",
      "3:agent_id:scalar",
      "4:poller_id:scalar",
      "5:details:scalar",
      "6:last_sequence:scalar",
      "7:completion_status:message",
    ]);
    expect(fields(ResultsResponseSchema)).toEqual([
      "1:available:scalar",
      "2:data:scalar",
      "3:service_name:scalar",
      "4:service_type:scalar",
      "5:response_time:scalar",
      "6:agent_id:scalar",
      "7:poller_id:scalar",
      "8:timestamp:scalar",
      "9:current_sequence:scalar",
      "10:has_new_data:scalar",
      "11:sweep_completion:message",
    ]);
    expect(fields(ResultsChunkSchema)).toEqual([
      "1:data:scalar",
      "2:is_final:scalar",
      "3:chunk_index:scalar",
      "4:total_chunks:scalar",
      "5:current_sequence:scalar",
      "6:timestamp:scalar",
    ]);
    expect(fields(SweepCompletionStatusSchema)).toEqual([
      "1:status:enum",
      "2:completion_time:scalar",
      "3:target_sequence:scalar",
      "4:total_targets:scalar",
      "5:completed_targets:scalar",
      "6:error_message:scalar",
    ]);
    expect(SweepCompletionStatus_StatusSchema.values.map((v) => `${v.number}:${v.name}`)).toEqual([
      "0:UNKNOWN",
      "1:NOT_STARTED",
      "2:IN_PROGRESS",
      "3:COMPLETED",
      "4:FAILED",
    ]);
    // Scalar types (protobuf ScalarType numbers): int64 = 3, int32 = 5, bool = 8, string = 9, bytes = 12.
    const scalars = (schema: typeof StatusResponseSchema | typeof ResultsChunkSchema) =>
      schema.fields.map((f) => (f.fieldKind === "scalar" ? f.scalar : f.fieldKind));
    expect(scalars(StatusResponseSchema)).toEqual([8, 12, 9, 9, 3, 9, 9]);
    expect(scalars(ResultsChunkSchema)).toEqual([12, 8, 5, 5, 9, 3]);
  });

  it("names the services and methods the way grpc-go routes them", () => {
    expect(AgentService.typeName).toBe("monitoring.AgentService");
    expect(AgentService.methods.map((m) => `${m.name}:${m.methodKind}`)).toEqual([
      "GetStatus:unary",
      "GetResults:unary",
      "StreamResults:server_streaming",
    ]);
    expect(Health.typeName).toBe("grpc.health.v1.Health");
    expect(Health.methods.map((m) => m.name)).toEqual(["Check", "Watch"]);
  });
});
