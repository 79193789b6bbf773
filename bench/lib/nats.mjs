// Just enough of the NATS client protocol for the benchmark's events-sink
// target: a JetStream API request (stream info, stream delete) and the
// nats-server's pid, without a client library.
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';

/** Sends one request to a NATS server and resolves its reply's payload as JSON. */
export function natsRequest(url, subject, payload = '', timeoutMs = 5000) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port || 4222), hostname);
    const inbox = `_INBOX.bench${process.pid}${Date.now()}`;
    let buf = '';
    let sent = false;
    const t = setTimeout(() => { sock.destroy(); reject(new Error(`nats ${subject}: no reply in ${timeoutMs} ms`)); }, timeoutMs);
    const done = (err, v) => { clearTimeout(t); sock.end(); if (err) reject(err); else resolve(v); };
    sock.on('error', (err) => done(err));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (!sent && buf.includes('\r\n')) { // the server's INFO
        sent = true;
        buf = buf.slice(buf.indexOf('\r\n') + 2);
        sock.write(`CONNECT {"verbose":false,"pedantic":false,"name":"switchboard-bench"}\r\nSUB ${inbox} 1\r\n`
          + `PUB ${subject} ${inbox} ${Buffer.byteLength(payload)}\r\n${payload}\r\n`);
      }
      if (buf.includes('PING\r\n')) { sock.write('PONG\r\n'); buf = buf.replace('PING\r\n', ''); }
      const m = /MSG \S+ \d+ (\d+)\r\n/.exec(buf);
      if (m && buf.length >= m.index + m[0].length + Number(m[1])) {
        const body = buf.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
        try { done(null, JSON.parse(body)); } catch (err) { done(err); }
      }
      const e = /-ERR ([^\r]*)\r\n/.exec(buf);
      if (e) done(new Error(`nats ${subject}: ${e[1]}`));
    });
  });
}

/** The pid of the process listening on url's port, or null (ss needs to see it). */
export function listenerPid(url) {
  const port = new URL(url).port || '4222';
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
