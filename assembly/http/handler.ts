// The functions an app gives the SDK. AssemblyScript has no closures: each is a top-level
// function (or an arrow function that captures nothing); per-request state lives in the app's
// own per-slot arrays, indexed by req.slot.

import { Request } from "./request";
import { Response } from "./response";
import { Slice } from "./text";

/** Handles a request whose head has arrived: `http.serve(handler)`; also onEnd and onDrain. */
export type Handler = (req: Request, res: Response) => void;
/** Receives a piece of the request body (valid only during the call): `req.onData(fn)`. */
export type DataHandler = (req: Request, res: Response, data: Slice) => void;

export function noHandler(req: Request, res: Response): void {}
export function noData(req: Request, res: Response, data: Slice): void {}
