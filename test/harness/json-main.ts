// The shape of the lab's client scripts (mc-client.ts, mc-create.ts): JSON arguments in argv[2],
// one JSON line of result on stdout, exit 0; or the error on stderr, exit 1.
export function jsonMain<A, R>(main: (a: A) => Promise<R>): void {
  main(JSON.parse(process.argv[2]!) as A).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    },
    (e: Error) => {
      console.error(e.stack ?? String(e));
      process.exit(1);
    },
  );
}
