import { describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { parseCheck, parsePingOutput, splitHostPort } from "../../src/platform/probes/index.js";

describe("parseCheck", () => {
  it("reads ServiceRadar's plain details", () => {
    expect(parseCheck({ serviceType: "port", details: "10.0.0.1:22" })).toEqual({
      kind: "port",
      host: "10.0.0.1",
      port: 22,
    });
    expect(parseCheck({ serviceType: "port", details: "[::1]:443" })).toEqual({
      kind: "port",
      host: "::1",
      port: 443,
    });
    expect(parseCheck({ serviceType: "icmp", details: "192.168.1.1" })).toEqual({
      kind: "icmp",
      host: "192.168.1.1",
      count: 1,
    });
    expect(parseCheck({ serviceType: "http", details: "https://example.test/health" })).toMatchObject({
      kind: "http",
      url: "https://example.test/health",
      method: "GET",
      followRedirects: false,
    });
    expect(parseCheck({ serviceType: "dns", details: "example.test" })).toEqual({
      kind: "dns",
      name: "example.test",
      recordType: "A",
    });
    expect(parseCheck({ serviceType: "grpc", details: "10.0.0.1:50051" })).toMatchObject({
      kind: "grpc",
      address: "10.0.0.1:50051",
      service: "",
      tls: false,
    });
  });

  it("reads the JSON details", () => {
    expect(
      parseCheck({
        serviceType: "dns",
        details: JSON.stringify({
          name: "example.test",
          type: "MX",
          server: "10.0.0.53:53",
          expect: "10 mx.example.test",
        }),
      }),
    ).toEqual({
      kind: "dns",
      name: "example.test",
      recordType: "MX",
      server: "10.0.0.53:53",
      expect: "10 mx.example.test",
    });
    expect(
      parseCheck({ serviceType: "icmp", details: JSON.stringify({ host: "10.0.0.1", count: 3 }) }),
    ).toEqual({ kind: "icmp", host: "10.0.0.1", count: 3 });
  });

  it.each([
    ["port", "10.0.0.1", "details must be"],
    ["port", "10.0.0.1:70000", "details must be"],
    ["icmp", "rm -rf /", "host name or IP address"],
    ["icmp", "-f", "host name or IP address"],
    ["icmp", JSON.stringify({ host: "--help" }), "host name or IP address"],
    ["http", "ftp://example.test/", "http or https"],
    ["http", JSON.stringify({ url: "http://x.test", body_regex: "(" }), "not a valid regular expression"],
    ["http", JSON.stringify({ url: "http://x.test", surprise: 1 }), "surprise"],
    ["dns", JSON.stringify({ name: "x.test", type: "SOA" }), "type"],
    ["dns", "{not json", "not valid JSON"],
    ["grpc", JSON.stringify({ address: "nohostport" }), "host:port"],
    ["snmp", "x", "unknown service_type"],
  ])("refuses %s details %s with SONDE_VALIDATION_FAILED", (serviceType, details, message) => {
    let caught: unknown;
    try {
      parseCheck({ serviceType, details });
    } catch (err) {
      caught = err;
    }
    expect(isSondeError(caught, "SONDE_VALIDATION_FAILED")).toBe(true);
    expect((caught as Error).message).toContain(message);
  });

  it("splits host:port", () => {
    expect(splitHostPort("a.test:1")).toEqual({ host: "a.test", port: 1 });
    expect(splitHostPort("a.test")).toBeUndefined();
    expect(splitHostPort("a.test:0")).toBeUndefined();
  });
});

describe("parsePingOutput", () => {
  it("reads iputils ping", () => {
    const out = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms
rtt min/avg/max/mdev = 0.039/0.042/0.045/0.003 ms`;
    expect(parsePingOutput("ping", out)).toEqual({ sent: 3, received: 2, avgMs: 0.042 });
  });

  it("reads busybox ping and a ping without replies", () => {
    expect(
      parsePingOutput(
        "ping",
        "1 packets transmitted, 1 packets received, 0% packet loss\nround-trip min/avg/max = 0.1/0.2/0.3 ms",
      ),
    ).toEqual({ sent: 1, received: 1, avgMs: 0.2 });
    expect(parsePingOutput("ping", "1 packets transmitted, 0 received, 100% packet loss, time 0ms")).toEqual({
      sent: 1,
      received: 0,
      avgMs: undefined,
    });
  });

  it("reads fping -q", () => {
    expect(
      parsePingOutput("fping", "127.0.0.1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.03/0.04/0.05"),
    ).toEqual({
      sent: 3,
      received: 3,
      avgMs: 0.04,
    });
    expect(parsePingOutput("fping", "10.9.9.9 : xmt/rcv/%loss = 1/0/100%")).toEqual({
      sent: 1,
      received: 0,
      avgMs: undefined,
    });
  });

  it("finds no summary in an error message (the binary could not send)", () => {
    expect(parsePingOutput("ping", "ping: socket: Operation not permitted")).toBeUndefined();
  });
});
