"""A long-running impacket SMB client, driven one JSON command per stdin line; one JSON answer per
stdout line. Used by test/interop/two-clients.test.ts to hold opens, locks and oplocks against
smb3d while another client contends for them.

CREATE, LOCK, CLOSE and the oplock break acknowledgement are built from impacket's own structures
(smb3structs) and sent with its SMB3.sendSMB/recvSMB: SMB3.create hides what the test must check
(the granted oplock, lease and durable contexts), and SMB3.lock joins str() of each element, which
fails on Python 3.

Commands ({"cmd": ..., args}); every answer is {"ok": true, ...} or {"ok": false, "status": NAME}:
  connect   port user password share [dialect] [client_guid]   (client_guid: 32 hex digits)
            -> dialect, local_port (how the server's log names this connection)
  create    name access share disposition [oplock] [lease_key lease_state] [durable_ms create_guid]
            [reconnect_fid]   (with create_guid: a DH2C reconnect of that durable open)
            -> fid (hex), oplock, lease_state, durable_timeout (null when not granted)
  lock      fid offset length flags                  -> waits for the final answer
  lock_pending fid offset length flags               -> sends, returns once the server answered
                                                        STATUS_PENDING (the lock waits server-side)
  wait_break timeout_ms                              -> the next oplock/lease break notification
  ack_break fid level                                -> OPLOCK_BREAK acknowledgement, granted level
  ack_lease_break lease_key state                    -> lease break acknowledgement, state kept
  close     fid
"""
import json
import struct
import sys
import time

from Cryptodome.Cipher import AES
from impacket import nt_errors, smb3
from impacket import smb3structs as s2
from impacket.smbconnection import SMBConnection

UNSOLICITED = 0xFFFFFFFFFFFFFFFF
LEASE_BREAK_SIZE = 44


class Failed(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def status_name(code):
    return nt_errors.ERROR_MESSAGES.get(code, ('0x%08x' % code,))[0]


def pack_contexts(items):
    """SMB2_CREATE_CONTEXT chain ([MS-SMB2] 2.2.13.2): name at 16, data at 24, entries 8-aligned."""
    out = b''
    for i, (name, data) in enumerate(items):
        entry = struct.pack('<IHHHHI', 0, 16, len(name), 0, 24, len(data)) + name + b'\0' * (8 - len(name)) + data
        if i < len(items) - 1:
            entry += b'\0' * (-len(entry) % 8)
            entry = struct.pack('<I', len(entry)) + entry[4:]
        out += entry
    return out


def parse_contexts(buf):
    found = {}
    off = 0
    while buf:
        nxt, name_off, name_len, _, data_off, data_len = struct.unpack_from('<IHHHHI', buf, off)
        name = buf[off + name_off:off + name_off + name_len]
        found[name.decode('latin-1')] = buf[off + data_off:off + data_off + data_len]
        if not nxt:
            break
        off += nxt
    return found


class Driver:
    def __init__(self):
        self.conn = None
        self.s = None
        self.tid = None

    # --- transport -------------------------------------------------------------------------

    def stash(self):
        return self.s._Connection['OutstandingResponses']

    def read_packet(self, timeout):
        """The next message off the wire, decrypted as SMB3.recvSMB does when the session is sealed."""
        data = self.s._NetBIOSSession.recv_packet(timeout).get_trailer()
        if data.startswith(b'\xfdSMB'):
            th = s2.SMB2_TRANSFORM_HEADER(data)
            cipher = AES.new(self.s._Session['DecryptionKey'], AES.MODE_CCM, th['Nonce'][:11])
            cipher.update(th.getData()[20:])
            data = cipher.decrypt(data[len(s2.SMB2_TRANSFORM_HEADER()):])
        return s2.SMB2Packet(data)

    def send(self, command, data):
        p = self.s.SMB_PACKET()
        p['Command'] = command
        p['TreeID'] = self.tid
        p['Data'] = data
        return self.s.sendSMB(p)

    def call(self, command, data):
        ans = self.s.recvSMB(self.send(command, data))
        if ans['Status'] != 0:
            raise Failed(status_name(ans['Status']))
        return ans

    # --- commands --------------------------------------------------------------------------

    def connect(self, port, user, password, share, dialect='SMB2_DIALECT_30', client_guid=None):
        guid = bytes.fromhex(client_guid) if client_guid else None

        class SMB3WithGuid(smb3.SMB3):
            def negotiateSession(inner, *a, **k):
                if guid:
                    inner.ClientGuid = guid
                return super().negotiateSession(*a, **k)

        self.s = SMB3WithGuid('127.0.0.1', '127.0.0.1', sess_port=int(port), timeout=30,
                              preferredDialect=getattr(s2, dialect))
        self.conn = SMBConnection(existingConnection=self.s)
        self.conn.login(user, password)
        self.tid = self.conn.connectTree(share)
        return {'dialect': self.s.getDialect(), 'local_port': self.s._NetBIOSSession.get_socket().getsockname()[1]}

    def create(self, name, access, share, disposition, oplock=0, lease_key=None, lease_state=0,
               durable_ms=None, create_guid=None, reconnect_fid=None):
        req = s2.SMB2Create()
        req['RequestedOplockLevel'] = oplock
        req['ImpersonationLevel'] = s2.SMB2_IL_IMPERSONATION
        req['DesiredAccess'] = access
        req['FileAttributes'] = 0
        req['ShareAccess'] = share
        req['CreateDisposition'] = disposition
        req['CreateOptions'] = s2.FILE_NON_DIRECTORY_FILE
        buf = name.encode('utf-16le')
        req['NameLength'] = len(buf)
        contexts = []
        if lease_key is not None:
            lease = s2.SMB2_CREATE_REQUEST_LEASE()
            lease['LeaseKey'] = bytes.fromhex(lease_key)
            lease['LeaseState'] = lease_state
            contexts.append((b'RqLs', lease.getData()))
        if reconnect_fid is not None:
            dh2c = s2.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2()
            dh2c['FileID'] = bytes.fromhex(reconnect_fid)
            dh2c['CreateGuid'] = bytes.fromhex(create_guid)
            contexts.append((b'DH2C', dh2c.getData()))
        elif durable_ms is not None:
            dh2q = s2.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2()
            dh2q['Timeout'] = durable_ms
            dh2q['Reserved'] = b'\0' * 8
            dh2q['CreateGuid'] = bytes.fromhex(create_guid)
            contexts.append((b'DH2Q', dh2q.getData()))
        if contexts:
            buf += b'\0' * (-(64 + s2.SMB2Create.SIZE + len(buf)) % 8)
            req['CreateContextsOffset'] = 64 + s2.SMB2Create.SIZE + len(buf)
            packed = pack_contexts(contexts)
            req['CreateContextsLength'] = len(packed)
            buf += packed
        req['Buffer'] = buf or b'\0'
        ans = self.call(s2.SMB2_CREATE, req)
        resp = s2.SMB2Create_Response(ans['Data'])
        body = ans['Data']
        ctx_off, ctx_len = resp['CreateContextsOffset'], resp['CreateContextsLength']
        got = parse_contexts(body[ctx_off - 64:ctx_off - 64 + ctx_len]) if ctx_len else {}
        out = {'fid': resp['FileID'].getData().hex(), 'oplock': resp['OplockLevel'],
               'lease_state': None, 'durable_timeout': None}
        if 'RqLs' in got:
            out['lease_state'] = struct.unpack_from('<I', got['RqLs'], 16)[0]
        if 'DH2Q' in got:
            out['durable_timeout'] = struct.unpack_from('<I', got['DH2Q'], 0)[0]
        return out

    def lock_request(self, fid, offset, length, flags):
        el = s2.SMB2_LOCK_ELEMENT()
        el['Offset'] = offset
        el['Length'] = length
        el['Flags'] = flags
        req = s2.SMB2Lock()
        req['FileID'] = bytes.fromhex(fid)
        req['LockCount'] = 1
        req['Locks'] = el.getData()
        return req

    def lock(self, fid, offset, length, flags):
        self.call(s2.SMB2_LOCK, self.lock_request(fid, offset, length, flags))
        return {}

    def lock_pending(self, fid, offset, length, flags):
        mid = self.send(s2.SMB2_LOCK, self.lock_request(fid, offset, length, flags))
        while True:
            p = self.read_packet(30)
            if p['MessageID'] != mid:
                self.stash()[p['MessageID']] = p
                continue
            if p['Status'] == nt_errors.STATUS_PENDING and p['Flags'] & s2.SMB2_FLAGS_ASYNC_COMMAND:
                return {'message_id': mid}
            raise Failed(status_name(p['Status']) if p['Status'] else 'granted at once')

    def wait_break(self, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        pkt = self.stash().pop(UNSOLICITED, None)
        while pkt is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed('no break within %d ms' % timeout_ms)
            p = self.read_packet(left)
            if p['MessageID'] == UNSOLICITED:
                pkt = p
            else:
                self.stash()[p['MessageID']] = p
        if pkt['Command'] != s2.SMB2_OPLOCK_BREAK:
            raise Failed('unsolicited command %d' % pkt['Command'])
        data = pkt['Data']
        if len(data) >= LEASE_BREAK_SIZE and struct.unpack_from('<H', data, 0)[0] == LEASE_BREAK_SIZE:
            _, _, flags, key, cur, new = struct.unpack_from('<HHI16sII', data, 0)
            return {'kind': 'lease', 'lease_key': key.hex(), 'current': cur, 'new': new, 'flags': flags}
        _, level, _, _, fid = struct.unpack_from('<HBBI16s', data, 0)
        return {'kind': 'oplock', 'level': level, 'fid': fid.hex()}

    def ack_break(self, fid, level):
        ans = self.call(s2.SMB2_OPLOCK_BREAK, struct.pack('<HBBI', 24, level, 0, 0) + bytes.fromhex(fid))
        return {'level': ans['Data'][2]}

    def ack_lease_break(self, lease_key, state):
        """SMB2 LEASE_BREAK acknowledgement ([MS-SMB2] 2.2.24.2); answers the state the server kept."""
        body = struct.pack('<HHI16sIQ', 36, 0, 0, bytes.fromhex(lease_key), state, 0)
        ans = self.call(s2.SMB2_OPLOCK_BREAK, body)
        return {'state': struct.unpack_from('<I', ans['Data'], 24)[0]}

    def close(self, fid):
        req = s2.SMB2Close()
        req['FileID'] = bytes.fromhex(fid)
        self.call(s2.SMB2_CLOSE, req)
        return {}


def main():
    d = Driver()
    for line in sys.stdin:
        if not line.strip():
            continue
        args = json.loads(line)
        cmd = args.pop('cmd')
        try:
            out = {'ok': True, **getattr(d, cmd)(**args)}
        except Failed as e:
            out = {'ok': False, 'status': e.status}
        except smb3.SessionError as e:
            out = {'ok': False, 'status': status_name(e.getErrorCode())}
        except Exception as e:  # reported, not fatal: the test decides
            out = {'ok': False, 'status': 'python: %s: %s' % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
