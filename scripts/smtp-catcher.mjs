#!/usr/bin/env node
// The demo's mail server: accepts every message on 127.0.0.1 and appends it, as received,
// to a file, so the alert mails the sidecar sends can be read without a real mailbox.
//   node scripts/smtp-catcher.mjs <port> <file>
import fs from 'node:fs';
import { SMTPServer } from 'smtp-server';

const [port, file] = [Number(process.argv[2]), process.argv[3]];
if (!port || !file) {
  console.error('usage: node scripts/smtp-catcher.mjs <port> <file>');
  process.exit(2);
}
const server = new SMTPServer({
  secure: false, disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true, logger: false,
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      const to = session.envelope.rcptTo.map((r) => r.address).join(', ');
      fs.appendFileSync(file, `==== ${new Date().toISOString()} to ${to}\n${Buffer.concat(chunks).toString('utf8')}\n\n`);
      console.log(`caught a mail to ${to}`);
      cb();
    });
  },
});
server.listen(port, '127.0.0.1', () => console.log(`catching mail on 127.0.0.1:${port} into ${file}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
