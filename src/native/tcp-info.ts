/**
 * What the kernel knows of a TCP socket that Node does not expose: how many bytes the peer has
 * acknowledged and the current retransmission timeout (getsockopt TCP_INFO), and the bytes still
 * unacknowledged in the send queue (ioctl SIOCOUTQ). Break delivery over multichannel (R6) needs
 * them to tell a dead channel from a slow one.
 *
 * Reached through koffi like the rest of src/native. Loading never throws: where it cannot load
 * (not Linux, no koffi binary), `tcpInfoAvailable` is false and `readTcpInfo` returns undefined.
 */
import { loadNative, type NativeFn } from './load.js';

const IPPROTO_TCP = 6;
const TCP_INFO = 11;
const SIOCOUTQ = 0x5411;

/**
 * Offsets in struct tcp_info of <linux/tcp.h> (stable kernel ABI; glibc's <netinet/tcp.h> copy
 * stops before tcpi_bytes_acked, which is why the kernel's layout is the one that counts).
 */
const OFF_STATE = 0;
const OFF_RTO = 8;
const OFF_UNACKED = 24;
const OFF_TOTAL_RETRANS = 100;
const OFF_BYTES_ACKED = 120;
/** Large enough for every kernel's struct; the kernel writes what it has and reports the length. */
const INFO_SIZE = 256;

interface Bindings {
  getsockopt: NativeFn;
  ioctlInt: NativeFn;
}

function load(): Bindings | null {
  return loadNative('libc.so.6', (lib) => {
    return {
      getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)'),
      ioctlInt: lib.func('int ioctl(int fd, unsigned long request, _Out_ int *value)'),
    };
  });
}

const native = load();

export const tcpInfoAvailable: boolean = native !== null;

export interface TcpInfo {
  /** TCP state (1 = ESTABLISHED). */
  state: number;
  /** Current retransmission timeout in microseconds, back-off included. */
  rtoUs: number;
  /** Segments sent and not yet acknowledged. */
  unackedSegments: number;
  totalRetrans: number;
  /** Bytes of payload the peer has acknowledged since the connection began. */
  bytesAcked: bigint;
}

const infoBuf = Buffer.alloc(INFO_SIZE);
const lenBox = [0];

/** TCP_INFO of a socket descriptor; undefined when unavailable or the call fails (closed fd). */
export function readTcpInfo(fd: number): TcpInfo | undefined {
  if (native === null || fd < 0) return undefined;
  lenBox[0] = INFO_SIZE;
  const ret = Number(native.getsockopt(fd, IPPROTO_TCP, TCP_INFO, infoBuf, lenBox));
  if (ret !== 0 || (lenBox[0] ?? 0) < OFF_BYTES_ACKED + 8) return undefined;
  return {
    state: infoBuf[OFF_STATE]!,
    rtoUs: infoBuf.readUInt32LE(OFF_RTO),
    unackedSegments: infoBuf.readUInt32LE(OFF_UNACKED),
    totalRetrans: infoBuf.readUInt32LE(OFF_TOTAL_RETRANS),
    bytesAcked: infoBuf.readBigUInt64LE(OFF_BYTES_ACKED),
  };
}

const intBox = [0];

/** Bytes in the socket's send queue not yet acknowledged by the peer (never-sent bytes included). */
export function readUnackedBytes(fd: number): number | undefined {
  if (native === null || fd < 0) return undefined;
  const ret = Number(native.ioctlInt(fd, SIOCOUTQ, intBox));
  return ret === 0 ? intBox[0] : undefined;
}
