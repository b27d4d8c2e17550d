/** A loopback port nothing listens on (bound, then closed), for "connection refused" cases. */
export { freePort as closedPort } from '../../core/testing/ports.js';
