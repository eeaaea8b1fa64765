import { x } from '@nicvisor/openflow'; import { Parser } from 'binary-parser'; console.log('hello', x, typeof Parser);
