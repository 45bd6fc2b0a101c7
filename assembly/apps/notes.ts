// @runtime incremental
// @limits http max-body-bytes=4096
// wasm/notes.wasm: a tiny in-memory notepad.
//   GET  /notes           all notes, one per line
//   POST /notes           adds the body as a note (at most 4 KiB)
//   GET  /hello?name=Ada  a greeting

import * as http from "../http";

// The exports the host looks for (docs/ABI.md).
export * from "../../guest";

// Limits an app may change at its top level (the host's -W values still win).
http.defaults.maxBodyBytes = 4096;

const notes: string[] = [];

http.serve((req: http.Request, res: http.Response): void => {
  if (req.pathIs("/notes") && req.methodIs("GET")) {
    res.header("Content-Type", "text/plain; charset=utf-8");
    res.end(notes.join("\n") + "\n");
  } else if (req.pathIs("/notes") && req.methodIs("POST")) {
    req.collect(4096); // keep the body (413 past 4 KiB) ...
    req.onEnd(addNote); // ... and look at it once it has all arrived
  } else if (req.pathIs("/hello")) {
    const name = req.param("name");
    res.end("Hello, " + (name === null ? "stranger" : name) + "!\n");
  } else {
    res.status(404).end("no such page\n");
  }
});

function addNote(req: http.Request, res: http.Response): void {
  if (notes.length == 100) notes.shift(); // keep the last 100
  notes.push(req.body.toString());
  res.status(201).header("Location", "/notes").end();
}
