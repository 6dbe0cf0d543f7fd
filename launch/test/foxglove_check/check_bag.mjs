// Reads MCAP files the way the Foxglove app does (@mcap/core's indexed reader, message definitions parsed by
// @foxglove/rosmsg, ROS 2 CDR decoded by @foxglove/rosmsg2-serialization) and prints every decoded message as JSON.
//
//   node check_bag.mjs [--expect '{"TOPIC": {"type": "pkg/msg/Type", "count": N}}'] [--counts-only] FILE.mcap...
//
// Exits 1 with one line on stderr when a file does not open, a channel is not ROS 2 CDR with a ros2msg schema, a
// message does not decode (or leaves more than CDR's padding to 4 bytes over: its schema does not fit it), or the
// topics, types and counts differ from --expect. Stdout: {"counts": {topic: n}, "types": {topic: type}, "messages":
// {topic: [message, ...]}}, byte arrays as {"$bytes": base64}, other typed arrays as lists, 64-bit integers as
// numbers; --counts-only: every message is decoded all the same, but none is kept or printed (a long recording's
// images do not fit in one JSON string).
import { open } from "node:fs/promises";
import { parseArgs } from "node:util";

import { parse } from "@foxglove/rosmsg";
import { MessageReader } from "@foxglove/rosmsg2-serialization";
import { McapIndexedReader } from "@mcap/core";
import { FileHandleReadable } from "@mcap/nodejs";
import { loadDecompressHandlers } from "@mcap/support";

function fail(message) {
  process.stderr.write(`check_bag: error: ${message}\n`);
  process.exit(1);
}

function plain(_key, value) {
  if (value instanceof Uint8Array || value instanceof Int8Array) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (ArrayBuffer.isView(value)) return Array.from(value, (item) => (typeof item === "bigint" ? Number(item) : item));
  return typeof value === "bigint" ? Number(value) : value;
}

async function readFile(path, decompressHandlers, readers, out, keep) {
  const handle = await open(path, "r").catch((error) => fail(`${path}: ${error.message}`));
  try {
    const reader = await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle), decompressHandlers })
      .catch((error) => fail(`${path}: not a readable MCAP file: ${error.message}`));
    for await (const message of reader.readMessages()) {
      const channel = reader.channelsById.get(message.channelId);
      const schema = reader.schemasById.get(channel.schemaId);
      if (channel.messageEncoding !== "cdr" || schema?.encoding !== "ros2msg") {
        fail(`${path}: ${channel.topic} is ${channel.messageEncoding} with a ${schema?.encoding} schema, not ROS 2 CDR`);
      }
      const key = `${schema.name}\n${channel.topic}`;
      if (!readers.has(key)) {
        readers.set(key, new MessageReader(parse(new TextDecoder().decode(schema.data), { ros2: true })));
      }
      const messageReader = readers.get(key);
      let decoded;
      try {
        decoded = messageReader.readMessage(message.data);
      } catch (error) {
        fail(`${path}: a ${schema.name} message on ${channel.topic} does not decode: ${error.message}`);
      }
      // CDR may end in padding to 4 bytes (rmw_cyclonedds sends it; rosbag2 stores it as received): more is a
      // schema that does not fit the message.
      if (message.data.byteLength > Math.ceil(messageReader.lastReadByteLength() / 4) * 4) {
        fail(`${path}: a ${schema.name} message on ${channel.topic} has bytes its schema does not account for`);
      }
      if (out.types[channel.topic] !== undefined && out.types[channel.topic] !== schema.name) {
        fail(`${channel.topic} has two types, ${out.types[channel.topic]} and ${schema.name}`);
      }
      out.types[channel.topic] = schema.name;
      out.counts[channel.topic] = (out.counts[channel.topic] ?? 0) + 1;
      if (keep) (out.messages[channel.topic] ??= []).push(decoded);
    }
  } finally {
    await handle.close();
  }
}

function compare(expected, out) {
  const problems = [];
  for (const [topic, { type, count }] of Object.entries(expected)) {
    if (count > 0 && out.types[topic] !== type) problems.push(`${topic}: type ${out.types[topic]}, expected ${type}`);
    if ((out.counts[topic] ?? 0) !== count) problems.push(`${topic}: ${out.counts[topic] ?? 0} messages, expected ${count}`);
  }
  for (const topic of Object.keys(out.counts)) if (!(topic in expected)) problems.push(`${topic}: not expected`);
  if (problems.length > 0) fail(problems.join("; "));
}

const { values, positionals } = parseArgs({ options: { expect: { type: "string" }, "counts-only": { type: "boolean" } }, allowPositionals: true });
if (positionals.length === 0) fail("no MCAP file given");
const out = { counts: {}, types: {}, messages: {} };
const decompressHandlers = await loadDecompressHandlers();
const readers = new Map();
for (const path of positionals) await readFile(path, decompressHandlers, readers, out, !values["counts-only"]);
if (values.expect !== undefined) compare(JSON.parse(values.expect), out);
process.stdout.write(JSON.stringify(out, plain));
