/**
 * The guest models property runs know. Adding a guest: write its model (see model.ts and
 * echo.ts for the smallest one) and list it here; `npm run sim -- --guest NAME` then runs it.
 */
import { echoModel } from './echo.ts';
import { frameModel } from './frame.ts';
import { helloModel } from './hello.ts';
import { inspectModel } from './inspect.ts';
import type { GuestModel } from './model.ts';

export const MODELS: readonly GuestModel[] = [echoModel, helloModel, frameModel, inspectModel];

export function findModel(name: string): GuestModel | undefined {
  return MODELS.find((m) => m.guest === name);
}
