import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPipe, RpcPipe, type RpcContext } from '../../src/rpc/index.js';
import { NdrReader, NdrWriter } from '../../src/rpc/ndr.js';

// ---- client-side encoding, written out by hand so the engine is not checked against itself ----

const NDR = { uuid: '8a885d04-1ceb-11c9-9fe8-08002b104860', version: 2 };
const NDR64 = { uuid: '71710533-beba-4937-8319-b5dbef9ccc36', version: 1 };
const SRVSVC = { uuid: '4b324fc8-1670-01d3-1278-5a47bf6ee188', version: 3 };
const WKSSVC = { uuid: '6bffd098-a112-3610-9833-46c3f87e345a', version: 1 };
/** [MS-RPCE] 2.2.2.14: bitmask 0x03 (multiplexing + keep connection on orphan). */
const FEATURES = { uuid: '6cb71c2c-9812-4540-0300-000000000000', version: 1 };

/** Little-endian byte builder with NDR alignment relative to its own start. */
class Bytes {
  private parts: number[] = [];
  get length() {
    return this.parts.length;
  }
  align(n: number) {
    while (this.parts.length % n) this.parts.push(0);
    return this;
  }
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    this.align(2);
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number) {
    this.align(4);
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  raw(b: Buffer | number[]) {
    this.parts.push(...b);
    return this;
  }
  uuid(s: string) {
    const h = s.replace(/-/g, '');
    this.u32(parseInt(h.slice(0, 8), 16)).u16(parseInt(h.slice(8, 12), 16)).u16(parseInt(h.slice(12, 16), 16));
    return this.raw(Buffer.from(h.slice(16), 'hex'));
  }
  /** Conformant varying wide string with terminating NUL. */
  wstr(s: string) {
    this.u32(s.length + 1).u32(0).u32(s.length + 1);
    for (const c of s + '\0') this.u16(c.charCodeAt(0));
    return this;
  }
  buf() {
    return Buffer.from(this.parts);
  }
}

function header(type: number, flags: number, callId: number, body: Buffer, authLength = 0): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 5;
  h[2] = type;
  h[3] = flags;
  h[4] = 0x10;
  h.writeUInt16LE(16 + body.length, 8);
  h.writeUInt16LE(authLength, 10);
  h.writeUInt32LE(callId, 12);
  return Buffer.concat([h, body]);
}

type Syn = { uuid: string; version: number };
function bind(
  contexts: { id: number; abstract: Syn; transfers: Syn[] }[],
  opts: { xmit?: number; recv?: number; callId?: number; type?: number; authLength?: number } = {},
): Buffer {
  const b = new Bytes().u16(opts.xmit ?? 4280).u16(opts.recv ?? 4280).u32(0).u8(contexts.length).u8(0).u16(0);
  for (const c of contexts) {
    b.u16(c.id).u8(c.transfers.length).u8(0).uuid(c.abstract.uuid).u16(c.abstract.version).u16(0);
    for (const t of c.transfers) b.uuid(t.uuid).u16(t.version).u16(0);
  }
  return header(opts.type ?? 11, 3, opts.callId ?? 1, b.buf(), opts.authLength ?? 0);
}

function request(callId: number, ctxId: number, opnum: number, stub: Buffer, flags = 3, authLength = 0): Buffer {
  const body = Buffer.concat([new Bytes().u32(stub.length).u16(ctxId).u16(opnum).buf(), stub]);
  return header(0, flags, callId, body, authLength);
}

interface Pdu {
  type: number;
  flags: number;
  fragLength: number;
  callId: number;
  body: Buffer;
}
function parsePdu(b: Buffer): Pdu {
  assert.equal(b[0], 5);
  assert.equal(b[4], 0x10, 'little-endian drep');
  const fragLength = b.readUInt16LE(8);
  assert.equal(fragLength, b.length, 'one PDU per message');
  return { type: b[2]!, flags: b[3]!, fragLength, callId: b.readUInt32LE(12), body: b.subarray(16) };
}

/** Reads every queued message and reassembles the RESPONSE stub (or returns the FAULT status). */
function collect(pipe: RpcPipe, first?: Buffer): { stub?: Buffer; fault?: number; faultFlags?: number; frags: Pdu[] } {
  const frags: Pdu[] = [];
  const msgs = first ? [first] : [];
  for (let m = pipe.read(65536); m.length > 0; m = pipe.read(65536)) msgs.push(m);
  for (const m of msgs) frags.push(parsePdu(m));
  if (frags[0]?.type === 3) return { fault: frags[0].body.readUInt32LE(8), faultFlags: frags[0].flags, frags };
  assert.ok(frags.length > 0);
  frags.forEach((f, i) => {
    assert.equal(f.type, 2);
    assert.equal(Boolean(f.flags & 1), i === 0, 'FIRST_FRAG only on the first');
    assert.equal(Boolean(f.flags & 2), i === frags.length - 1, 'LAST_FRAG only on the last');
  });
  return { stub: Buffer.concat(frags.map((f) => f.body.subarray(8))), frags };
}

const shares = [
  { name: 'public', type: 0, comment: 'Public files' },
  { name: 'Media', type: 0, comment: '' },
  { name: 'IPC$', type: 0x80000003, comment: 'IPC Service' },
];
const ctx: RpcContext = { serverName: 'SMB3D', domain: 'WORKGROUP', listShares: () => shares };

function boundPipe(name = 'srvsvc', syntax: Syn = SRVSVC, opts: { xmit?: number; recv?: number } = {}, c: RpcContext = ctx): RpcPipe {
  const pipe = openPipe(name, c)!;
  pipe.write(bind([{ id: 0, abstract: syntax, transfers: [NDR] }], opts));
  const ack = parsePdu(pipe.read(65536));
  assert.equal(ack.type, 12);
  return pipe;
}

function shareEnumStub(level: number, resume = true): Buffer {
  return new Bytes()
    .u32(0x00020000)
    .wstr('\\\\127.0.0.1') // ServerName (unique)
    .u32(level)
    .u32(level) // SHARE_ENUM_STRUCT: Level, union discriminant
    .u32(0x00020004) // container pointer
    .u32(0)
    .u32(0) // EntriesRead 0, Buffer NULL
    .u32(0xffffffff) // PreferedMaximumLength
    .u32(resume ? 0x00020008 : 0)
    .raw(resume ? [0, 0, 0, 0] : [])
    .buf();
}

/** Decodes the NetrShareEnum response stub for levels 0, 1, 2 per [MS-SRVS] 2.2.4.23-2.2.4.25. */
function decodeShareEnum(stub: Buffer, level: number) {
  const r = new NdrReader(stub);
  assert.equal(r.u32(), level);
  assert.equal(r.u32(), level);
  assert.notEqual(r.pointer(), 0);
  const count = r.u32();
  assert.notEqual(r.pointer(), 0);
  assert.equal(r.u32(), count, 'conformance');
  const ptrs: number[][] = [];
  const ints: number[][] = [];
  const layout = level === 0 ? 'p' : level === 1 ? 'pup' : 'pupuuupp';
  for (let i = 0; i < count; i++) {
    const p: number[] = [];
    const n: number[] = [];
    for (const f of layout) (f === 'p' ? p : n).push(r.u32());
    ptrs.push(p);
    ints.push(n);
  }
  const out = ptrs.map((p, i) => ({ strings: p.map((ref) => (ref === 0 ? undefined : r.wstring())), ints: ints[i]! }));
  const total = r.u32();
  const resumePtr = r.pointer();
  const resume = resumePtr ? r.u32() : undefined;
  const werr = r.u32();
  assert.equal(r.remaining, 0);
  return { entries: out, total, resume, werr };
}

// ---- tests ----

test('openPipe knows srvsvc and wkssvc under any spelling, nothing else', () => {
  for (const n of ['srvsvc', 'SRVSVC', '\\srvsvc', '\\PIPE\\srvsvc', 'PIPE\\SrvSvc', 'wkssvc', '\\pipe\\wkssvc']) {
    assert.ok(openPipe(n, ctx) instanceof RpcPipe, n);
  }
  for (const n of ['lsarpc', 'samr', '', '\\PIPE\\', 'srvsvc2']) assert.equal(openPipe(n, ctx), undefined, n);
});

test('BIND for srvsvc gets a BIND_ACK with negotiated sizes, secondary address and NDR acceptance', () => {
  const pipe = openPipe('\\PIPE\\srvsvc', ctx)!;
  pipe.write(bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }], { callId: 7 }));
  assert.equal(pipe.pendingBytes(), 68);
  const ack = parsePdu(pipe.read(4096));
  assert.equal(pipe.pendingBytes(), 0);
  assert.equal(ack.type, 12);
  assert.equal(ack.flags, 0x03);
  assert.equal(ack.callId, 7);
  const b = ack.body;
  assert.equal(b.readUInt16LE(0), 4280, 'max_xmit_frag');
  assert.equal(b.readUInt16LE(2), 4280, 'max_recv_frag');
  assert.notEqual(b.readUInt32LE(4), 0, 'a new association group');
  assert.equal(b.readUInt16LE(8), 13);
  assert.equal(b.subarray(10, 23).toString('latin1'), '\\PIPE\\srvsvc\0');
  // 16 + 23 = 39 -> padded to 40: p_result_list starts at body offset 24.
  assert.equal(b[24], 1, 'n_results');
  assert.equal(b.readUInt16LE(28), 0, 'acceptance');
  assert.equal(b.readUInt16LE(30), 0);
  assert.equal(new NdrReader(b.subarray(32, 48)).bytes(16).toString('hex'), '045d888aeb1cc9119fe808002b104860');
  assert.equal(b.readUInt32LE(48), 2, 'NDR v2');
  assert.equal(ack.fragLength, 16 + 52);
});

test('fragment sizes follow Windows: max(2048, min(xmit, recv)) capped at 4280, multiple of 8', () => {
  const size = (xmit: number, recv: number) => {
    const pipe = openPipe('srvsvc', ctx)!;
    pipe.write(bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }], { xmit, recv }));
    const b = parsePdu(pipe.read(4096)).body;
    return [b.readUInt16LE(0), b.readUInt16LE(2)];
  };
  assert.deepEqual(size(5840, 5840), [4280, 4280]);
  assert.deepEqual(size(1000, 5840), [2048, 2048]);
  assert.deepEqual(size(3001, 4000), [3000, 3000]);
});

test('multiple context items: NDR64 rejected, NDR accepted, features acknowledged, unknown interface rejected', () => {
  const pipe = openPipe('srvsvc', ctx)!;
  pipe.write(
    bind([
      { id: 0, abstract: SRVSVC, transfers: [NDR64] },
      { id: 1, abstract: SRVSVC, transfers: [NDR64, NDR] },
      { id: 2, abstract: SRVSVC, transfers: [FEATURES] },
      { id: 3, abstract: WKSSVC, transfers: [NDR] },
    ]),
  );
  const b = parsePdu(pipe.read(4096)).body;
  assert.equal(b[24], 4);
  const result = (i: number) => ({
    result: b.readUInt16LE(28 + i * 24),
    reason: b.readUInt16LE(30 + i * 24),
    syntax: b.subarray(32 + i * 24, 52 + i * 24).toString('hex'),
  });
  const zero = '00'.repeat(20);
  assert.deepEqual(result(0), { result: 2, reason: 2, syntax: zero }, 'provider rejection: transfer syntaxes');
  assert.deepEqual(result(1), { result: 0, reason: 0, syntax: '045d888aeb1cc9119fe808002b10486002000000' });
  assert.deepEqual(result(2), { result: 3, reason: 0x02, syntax: zero }, 'negotiate_ack: keep connection on orphan');
  assert.deepEqual(result(3), { result: 2, reason: 1, syntax: zero }, 'abstract syntax not supported');

  // Context 1 is usable; context 0 was never created.
  assert.equal(collect(pipe, pipe.transact(request(2, 1, 15, shareEnumStub(1)), 65536).data).stub?.length! > 0, true);
  assert.equal(collect(pipe, pipe.transact(request(3, 0, 15, shareEnumStub(1)), 65536).data).fault, 0x1c010003);
});

test('ALTER_CONTEXT adds a context on a bound pipe and answers with ALTER_CONTEXT_RESP', () => {
  const pipe = boundPipe();
  pipe.write(bind([{ id: 5, abstract: SRVSVC, transfers: [NDR] }], { type: 14, callId: 9 }));
  const resp = parsePdu(pipe.read(4096));
  assert.equal(resp.type, 15);
  assert.equal(resp.callId, 9);
  assert.equal(resp.body.readUInt16LE(8), 0, 'empty secondary address');
  assert.equal(resp.body[12], 1);
  assert.equal(resp.body.readUInt16LE(16), 0);
  assert.ok(collect(pipe, pipe.transact(request(10, 5, 21, new Bytes().u32(0).u32(100).buf()), 65536).data).stub);
});

test('NetrShareEnum level 1: golden NDR bytes for one share', () => {
  const one: RpcContext = { ...ctx, listShares: () => [{ name: 'a', type: 0, comment: '' }] };
  const pipe = boundPipe('srvsvc', SRVSVC, {}, one);
  const { stub } = collect(pipe, pipe.transact(request(2, 0, 15, shareEnumStub(1)), 4280).data);
  const expected = [
    '01000000 01000000', // Level, union discriminant
    '00000200', // -> SHARE_INFO_1_CONTAINER
    '01000000 04000200', // EntriesRead, -> Buffer
    '01000000', // conformance
    '08000200 00000000 0c000200', // shi1_netname ->, shi1_type, shi1_remark ->
    '02000000 00000000 02000000 6100 0000', // "a"
    '01000000 00000000 01000000 0000 0000', // "" + pad
    '01000000', // TotalEntries
    '10000200 00000000', // ResumeHandle -> 0
    '00000000', // WERR_OK
  ]
    .join('')
    .replace(/ /g, '');
  assert.equal(stub!.toString('hex'), expected);
});

test('NetrShareEnum level 1 lists names, types and comments', () => {
  const pipe = boundPipe();
  const { stub, frags } = collect(pipe, pipe.transact(request(2, 0, 15, shareEnumStub(1)), 4280).data);
  assert.equal(frags.length, 1);
  assert.equal(frags[0]!.callId, 2);
  assert.equal(frags[0]!.body.readUInt32LE(0), stub!.length, 'alloc_hint');
  const res = decodeShareEnum(stub!, 1);
  assert.equal(res.werr, 0);
  assert.equal(res.total, 3);
  assert.equal(res.resume, 0);
  assert.deepEqual(
    res.entries.map((e) => [e.strings[0], e.ints[0], e.strings[1]]),
    [
      ['public', 0, 'Public files'],
      ['Media', 0, ''],
      ['IPC$', 0x80000003, 'IPC Service'],
    ],
  );
});

test('NetrShareEnum levels 0 and 2, and an unknown level', () => {
  const pipe = boundPipe();
  const l0 = decodeShareEnum(collect(pipe, pipe.transact(request(2, 0, 15, shareEnumStub(0, false)), 4280).data).stub!, 0);
  assert.deepEqual(l0.entries.map((e) => e.strings[0]), ['public', 'Media', 'IPC$']);
  assert.equal(l0.resume, undefined);

  const l2 = decodeShareEnum(collect(pipe, pipe.transact(request(3, 0, 15, shareEnumStub(2)), 4280).data).stub!, 2);
  assert.equal(l2.werr, 0);
  assert.deepEqual(l2.entries[0]!.strings, ['public', 'Public files', 'C:\\public', undefined]);
  assert.deepEqual(l2.entries[0]!.ints, [0, 0, 0xffffffff, 0]);

  const bad = collect(pipe, pipe.transact(request(4, 0, 15, shareEnumStub(7)), 4280).data).stub!;
  const r = new NdrReader(bad);
  assert.deepEqual([r.u32(), r.u32(), r.u32(), r.pointer(), r.u32(), r.u32()], [7, 7, 0, 0x00020000, 0, 124]);
});

test('NetrShareEnum steps over a non-empty [in] container', () => {
  const pipe = boundPipe();
  const stub = new Bytes()
    .u32(0) // ServerName NULL
    .u32(1)
    .u32(1)
    .u32(0x00020000)
    .u32(1)
    .u32(0x00020004) // one entry
    .u32(1)
    .u32(0x00020008)
    .u32(0)
    .u32(0x0002000c)
    .wstr('x')
    .wstr('y')
    .u32(100)
    .u32(0)
    .buf();
  const res = decodeShareEnum(collect(pipe, pipe.transact(request(2, 0, 15, stub), 4280).data).stub!, 1);
  assert.equal(res.entries.length, 3);
});

function shareGetInfo(pipe: RpcPipe, name: string, level: number, callId = 2): NdrReader {
  const stub = new Bytes().u32(0).wstr(name).u32(level).buf();
  return new NdrReader(collect(pipe, pipe.transact(request(callId, 0, 16, stub), 4280).data).stub!);
}

test('NetrShareGetInfo levels 1, 2, 501, 1005 and unknown share / level', () => {
  const pipe = boundPipe();
  let r = shareGetInfo(pipe, 'PUBLIC', 1);
  assert.equal(r.u32(), 1);
  assert.notEqual(r.pointer(), 0);
  r.pointer();
  assert.equal(r.u32(), 0);
  r.pointer();
  assert.equal(r.wstring(), 'public');
  assert.equal(r.wstring(), 'Public files');
  assert.equal(r.u32(), 0);
  assert.equal(r.remaining, 0);

  r = shareGetInfo(pipe, 'ipc$', 501);
  assert.equal(r.u32(), 501);
  r.pointer();
  r.pointer();
  assert.equal(r.u32(), 0x80000003);
  r.pointer();
  assert.equal(r.u32(), 0, 'csc flags');
  assert.equal(r.wstring(), 'IPC$');
  assert.equal(r.wstring(), 'IPC Service');
  assert.equal(r.u32(), 0);

  r = shareGetInfo(pipe, 'public', 1005);
  assert.deepEqual([r.u32(), r.pointer(), r.u32(), r.u32()], [1005, 0x00020000, 0, 0]);

  r = shareGetInfo(pipe, 'nosuch', 1);
  assert.deepEqual([r.u32(), r.pointer(), r.u32()], [1, 0, 0x906]);

  r = shareGetInfo(pipe, 'public', 3);
  assert.deepEqual([r.u32(), r.u32()], [3, 124]);
  assert.equal(r.remaining, 0);
});

test('NetrServerGetInfo 100/101 and wkssvc NetrWkstaGetInfo 100', () => {
  const pipe = boundPipe();
  const get = (level: number) =>
    new NdrReader(collect(pipe, pipe.transact(request(3, 0, 21, new Bytes().u32(0x20000).wstr('\\\\x').u32(level).buf()), 4280).data).stub!);
  let r = get(101);
  assert.equal(r.u32(), 101);
  r.pointer();
  assert.equal(r.u32(), 500);
  r.pointer();
  assert.deepEqual([r.u32(), r.u32()], [6, 1]);
  const type = r.u32();
  assert.equal(type & 0x8003, 0x8003, 'workstation | server | server_nt');
  r.pointer();
  assert.equal(r.wstring(), 'SMB3D');
  assert.equal(r.wstring(), '');
  assert.equal(r.u32(), 0);

  r = get(100);
  assert.deepEqual([r.u32(), r.pointer(), r.u32(), r.pointer()], [100, 0x20000, 500, 0x20004]);
  assert.equal(r.wstring(), 'SMB3D');
  assert.equal(r.u32(), 0);

  const wks = boundPipe('wkssvc', WKSSVC);
  r = new NdrReader(collect(wks, wks.transact(request(2, 0, 0, new Bytes().u32(0).u32(100).buf()), 4280).data).stub!);
  assert.equal(r.u32(), 100);
  r.pointer();
  assert.equal(r.u32(), 500);
  r.pointer();
  r.pointer();
  assert.deepEqual([r.u32(), r.u32()], [6, 1]);
  assert.equal(r.wstring(), 'SMB3D');
  assert.equal(r.wstring(), 'WORKGROUP');
  assert.equal(r.u32(), 0);
  assert.equal(r.remaining, 0);
});

test('large responses are fragmented to max_xmit_frag; short reads leave the rest of a fragment', () => {
  const many = Array.from({ length: 80 }, (_, i) => ({ name: `share${i}`, type: 0, comment: `comment number ${i} `.repeat(3) }));
  const c: RpcContext = { ...ctx, listShares: () => many };
  const pipe = boundPipe('srvsvc', SRVSVC, { xmit: 1024, recv: 1024 }, c); // clamps to 2048

  // Take the first fragment through a too-small transceive buffer: STATUS_BUFFER_OVERFLOW semantics.
  const head = pipe.transact(request(4, 0, 15, shareEnumStub(1)), 100);
  assert.equal(head.more, true);
  assert.equal(head.data.length, 100);
  const rest = pipe.read(65536);
  const first = Buffer.concat([head.data, rest]);
  assert.equal(first.length, 2048, 'a full fragment, never more');

  const { stub, frags } = collect(pipe, first);
  assert.ok(frags.length >= 3, `got ${frags.length} fragments`);
  let remaining = stub!.length;
  for (const f of frags) {
    assert.ok(f.fragLength <= 2048);
    assert.equal(f.callId, 4);
    assert.equal(f.body.readUInt32LE(0), remaining, 'alloc_hint is what is left');
    if (!(f.flags & 2)) assert.equal((f.fragLength - 24) % 8, 0);
    remaining -= f.fragLength - 24;
  }
  const res = decodeShareEnum(stub!, 1);
  assert.equal(res.entries.length, 80);
  assert.equal(res.entries[79]!.strings[0], 'share79');
  assert.equal(res.entries[79]!.strings[1], 'comment number 79 '.repeat(3));
  assert.equal(pipe.pendingBytes(), 0);
});

test('fragmented requests split across arbitrary writes are reassembled', () => {
  const pipe = boundPipe();
  const stub = shareEnumStub(1);
  const wire = Buffer.concat([request(6, 0, 15, stub.subarray(0, 16), 1), request(6, 0, 15, stub.subarray(16), 2)]);
  for (let i = 0; i < wire.length; i += 5) pipe.write(wire.subarray(i, i + 5));
  const res = decodeShareEnum(collect(pipe).stub!, 1);
  assert.equal(res.entries.length, 3);
});

test('unknown opnum -> nca_op_rng_error fault with DID_NOT_EXECUTE', () => {
  const pipe = boundPipe();
  const out = pipe.transact(request(8, 0, 99, Buffer.alloc(0)), 4280);
  const f = parsePdu(out.data);
  assert.equal(f.type, 3);
  assert.equal(f.callId, 8);
  assert.equal(f.flags, 0x23);
  assert.equal(f.fragLength, 32);
  assert.equal(f.body.readUInt32LE(8), 0x1c010002);
  const w = boundPipe('wkssvc', WKSSVC);
  assert.equal(collect(w, w.transact(request(2, 0, 1, Buffer.alloc(0)), 4280).data).fault, 0x1c010002);
});

test('truncated stub data -> bad stub data fault, and the pipe stays usable', () => {
  const pipe = boundPipe();
  assert.equal(collect(pipe, pipe.transact(request(2, 0, 15, Buffer.from([1, 0, 2])), 4280).data).fault, 0x6f7);
  assert.equal(decodeShareEnum(collect(pipe, pipe.transact(request(3, 0, 15, shareEnumStub(1)), 4280).data).stub!, 1).werr, 0);
});

test('RPC-level auth is refused: BIND_NAK for bind, fault for request', () => {
  const pipe = openPipe('srvsvc', ctx)!;
  const withAuth = bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }], { authLength: 8 });
  pipe.write(withAuth);
  const nak = parsePdu(pipe.read(4096));
  assert.equal(nak.type, 13);
  assert.equal(nak.body.readUInt16LE(0), 8, 'authentication type not recognized');

  const bound = boundPipe();
  const f = collect(bound, bound.transact(request(3, 0, 15, Buffer.concat([shareEnumStub(1), Buffer.alloc(16)]), 3, 8), 4280).data);
  assert.equal(f.fault, 0x1c01000b);
});

test('protocol misuse and garbage never throw: they answer with faults', () => {
  // Request before bind.
  let pipe = openPipe('srvsvc', ctx)!;
  assert.equal(collect(pipe, pipe.transact(request(1, 0, 15, shareEnumStub(1)), 4280).data).fault, 0x1c01000b);

  // Wrong RPC version: no trustworthy framing, one fault, then a fresh bind works.
  pipe = openPipe('srvsvc', ctx)!;
  pipe.write(Buffer.from('4\0\0\0\x10\0\0\0\x10\0\0\0\0\0\0\0garbage', 'latin1'));
  assert.equal(collect(pipe).fault, 0x1c01000b);
  pipe.write(bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }]));
  assert.equal(parsePdu(pipe.read(4096)).type, 12);

  // Second bind on the same association.
  assert.equal(collect(pipe, pipe.transact(bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }]), 4096).data).fault, 0x1c01000b);

  // A bind whose context list runs past the fragment.
  pipe = openPipe('srvsvc', ctx)!;
  const short = bind([{ id: 0, abstract: SRVSVC, transfers: [NDR] }]);
  short[24] = 9;
  pipe.write(short);
  assert.equal(parsePdu(pipe.read(4096)).type, 3);

  // Random bytes and random mutations of valid PDUs.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 8) & 0xff;
  const valid = [bind([{ id: 0, abstract: SRVSVC, transfers: [NDR, FEATURES] }]), request(2, 0, 15, shareEnumStub(2)), request(3, 0, 16, new Bytes().u32(0).wstr('public').u32(2).buf())];
  for (let round = 0; round < 2000; round++) {
    const p = openPipe('srvsvc', ctx)!;
    if (round % 2) p.write(valid[0]!);
    const base = Buffer.from(valid[round % 3]!);
    for (let k = 0; k < 1 + (round % 4); k++) base[rnd() % base.length] = rnd();
    if (round % 5 === 0) base[0] = 5;
    assert.doesNotThrow(() => p.write(base));
    assert.doesNotThrow(() => p.write(Buffer.from(Array.from({ length: 40 }, rnd))));
    for (let m = p.read(65536); m.length > 0; m = p.read(65536)) assert.equal(m[0], 5);
  }
});

test('a big-endian client is understood', () => {
  const pipe = openPipe('srvsvc', ctx)!;
  const hdr = (type: number, callId: number, body: Buffer) => {
    const h = Buffer.alloc(16);
    h[0] = 5;
    h[2] = type;
    h[3] = 3;
    h[4] = 0x00;
    h.writeUInt16BE(16 + body.length, 8);
    h.writeUInt32BE(callId, 12);
    return Buffer.concat([h, body]);
  };
  const uuidBe = (s: string) => Buffer.from(s.replace(/-/g, ''), 'hex');
  const bindBody = Buffer.concat([
    Buffer.from([0x10, 0xb8, 0x10, 0xb8, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]),
    uuidBe(SRVSVC.uuid),
    Buffer.from([0, 3, 0, 0]),
    uuidBe(NDR.uuid),
    Buffer.from([0, 2, 0, 0]),
  ]);
  pipe.write(hdr(11, 1, bindBody));
  const ack = parsePdu(pipe.read(4096));
  assert.equal(ack.type, 12);
  assert.equal(ack.body.readUInt16LE(28), 0, 'accepted');
  const stub = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  const req = hdr(0, 2, Buffer.concat([Buffer.from([0, 0, 0, stub.length, 0, 0, 0, 15]), stub]));
  const res = decodeShareEnum(collect(pipe, pipe.transact(req, 4280).data).stub!, 1);
  assert.equal(res.entries[0]!.strings[0], 'public');
});

test('NetrShareEnumSticky leaves out hidden shares; union arms we do not serve carry a NULL pointer', () => {
  const pipe = boundPipe();
  const sticky = decodeShareEnum(collect(pipe, pipe.transact(request(2, 0, 36, shareEnumStub(1)), 4280).data).stub!, 1);
  assert.deepEqual(sticky.entries.map((e) => e.strings[0]), ['public', 'Media']);
  assert.equal(sticky.total, 2);

  let r = new NdrReader(collect(pipe, pipe.transact(request(3, 0, 15, shareEnumStub(1005, false)), 4280).data).stub!);
  assert.deepEqual([r.u32(), r.u32(), r.pointer(), r.u32(), r.pointer(), r.u32()], [1005, 1005, 0, 0, 0, 124]);
  assert.equal(r.remaining, 0);

  const srv = (level: number) =>
    new NdrReader(collect(pipe, pipe.transact(request(4, 0, 21, new Bytes().u32(0).u32(level).buf()), 4280).data).stub!);
  r = srv(1005);
  assert.deepEqual([r.u32(), r.pointer(), r.u32(), r.remaining], [1005, 0, 124, 0]);
  r = srv(9999);
  assert.deepEqual([r.u32(), r.u32(), r.remaining], [9999, 124, 0]);
});

test('NetrShareGetInfo level 502 has no security descriptor', () => {
  const pipe = boundPipe();
  const r = shareGetInfo(pipe, 'public', 502);
  assert.equal(r.u32(), 502);
  assert.notEqual(r.pointer(), 0);
  const scalars = Array.from({ length: 10 }, () => r.u32());
  assert.deepEqual(scalars.slice(3, 6), [0, 0xffffffff, 0]);
  assert.equal(scalars[7], 0, 'password NULL');
  assert.deepEqual(scalars.slice(8), [0, 0], 'sd size 0, sd NULL');
  assert.deepEqual([r.wstring(), r.wstring(), r.wstring()], ['public', 'Public files', 'C:\\public']);
  assert.equal(r.u32(), 0);
  assert.equal(r.remaining, 0);
});

test('NDR writer: pointees follow their parent depth-first, buffers grow without losing bytes', () => {
  const w = new NdrWriter();
  // struct { A* a; B* b } where A holds a pointer to C: A, C, then B.
  w.pointer(() => w.u32(0xaa).pointer(() => w.u32(0xcc))).pointer(() => w.u32(0xbb)).flush();
  const r = new NdrReader(w.toBuffer());
  assert.deepEqual(
    Array.from({ length: 5 }, () => r.u32()),
    [0x20000, 0x20004, 0xaa, 0x20008, 0xcc],
  );
  assert.equal(r.u32(), 0xbb);

  const big = new NdrWriter();
  for (let i = 0; i < 1000; i++) big.u8(1).u32(i);
  const br = new NdrReader(big.toBuffer());
  for (let i = 0; i < 1000; i++) {
    assert.equal(br.u8(), 1);
    assert.equal(br.u32(), i);
  }
  assert.throws(() => new NdrReader(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0])).wstring(), /INVALID_PARAMETER/);
});
