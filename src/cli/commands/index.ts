// Every CLI command, each a module that adds itself to the program. Later issues add train, eval,
// predict, demo, serve, export, report and data here.
import type { Command } from 'commander';
import { register as data } from './data.js';
import { register as info } from './info.js';

export const commands: Array<(program: Command) => void> = [info, data];
