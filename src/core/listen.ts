import { swError } from './errors.js';

/** One listen address of a source: `udp://host:port` or `tcp://host:port`, IPv6 hosts in brackets. */
export interface ListenAddress {
  transport: 'udp' | 'tcp';
  host: string;
  port: number;
}

/** Reads a listen URL (the config schema has checked its shape; this is the one reader of it). */
export function parseListen(url: string): ListenAddress {
  const match = /^(udp|tcp):\/\/(?:\[([^\]]+)\]|([^:/]+)):(\d{1,5})$/.exec(url);
  const port = Number(match?.[4]);
  if (match === null || port > 65535) throw swError('SW_ERR_CONFIG', `listen address "${url}" is not udp://host:port or tcp://host:port`);
  return { transport: match[1] as 'udp' | 'tcp', host: (match[2] ?? match[3]) as string, port };
}

/** Reads a `host:port` or `[v6]:port` address (the config schema has checked its shape). */
export function splitHostPort(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}
