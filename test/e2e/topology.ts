import { execFileSync } from 'node:child_process';
import { createNetns, type Netns } from '../../src/enforcers/testing/netns.js';

/**
 * The lab: four network namespaces joined by three veth pairs, with addresses that exist only inside them.
 *
 *   ATTACKER 10.97.1.10, 10.97.1.11 ──veth── 10.97.1.1 PBX 10.97.2.1 ──veth── 10.97.2.10 PHONE
 *                                               PBX 10.97.3.1 ──veth── 10.97.3.10 CRACKER
 *
 * The PBX namespace runs Kamailio and sipwarden, so sipwarden's nft commands change that namespace's ruleset
 * only. The attacker has two addresses so that two attacks can be banned by two different rules and each ban
 * watched on its own (both tools there bind to their address: svwar -b, SIPp -i). svcrack 0.3.3 cannot bind: it
 * ignores -b and sends from whatever address the kernel picks, so it gets a namespace of its own with a single
 * address, and its source is unambiguous. There is no routing between the peers: each talks to the PBX on its
 * own link.
 */
export interface Lab {
  pbx: Netns;
  attacker: Netns;
  phone: Netns;
  cracker: Netns;
  /** The PBX's address on each link: where each side sends its SIP. */
  pbxForAttacker: string;
  pbxForPhone: string;
  pbxForCracker: string;
  attackerAddresses: readonly [string, string];
  phoneAddress: string;
  /** The CRACKER namespace's only address (besides loopback). */
  crackerAddress: string;
  destroy(): void;
}

function link(pbx: Netns, peer: Netns, pbxSide: string, peerSide: string, pbxAddress: string, peerAddresses: readonly string[]): void {
  // Created from inside the PBX namespace with the peer end moved at once: no interface ever exists on the host.
  pbx.exec(['ip', 'link', 'add', pbxSide, 'type', 'veth', 'peer', 'name', peerSide, 'netns', peer.name]);
  pbx.exec(['ip', 'addr', 'add', `${pbxAddress}/24`, 'dev', pbxSide]);
  pbx.exec(['ip', 'link', 'set', pbxSide, 'up']);
  for (const address of peerAddresses) peer.exec(['ip', 'addr', 'add', `${address}/24`, 'dev', peerSide]);
  peer.exec(['ip', 'link', 'set', peerSide, 'up']);
}

export function createLab(): Lab {
  const created: Netns[] = [];
  const destroy = (): void => {
    for (const ns of created.reverse()) ns.destroy();
  };
  try {
    const pbx = createNetns('sw-pbx');
    created.push(pbx);
    const attacker = createNetns('sw-att');
    created.push(attacker);
    const phone = createNetns('sw-phone');
    created.push(phone);
    const cracker = createNetns('sw-crk');
    created.push(cracker);
    const attackerAddresses = ['10.97.1.10', '10.97.1.11'] as const;
    link(pbx, attacker, 'to-attacker', 'to-pbx', '10.97.1.1', attackerAddresses);
    link(pbx, phone, 'to-phone', 'to-pbx', '10.97.2.1', ['10.97.2.10']);
    link(pbx, cracker, 'to-cracker', 'to-pbx', '10.97.3.1', ['10.97.3.10']);
    return {
      pbx, attacker, phone, cracker,
      pbxForAttacker: '10.97.1.1', pbxForPhone: '10.97.2.1', pbxForCracker: '10.97.3.1',
      attackerAddresses, phoneAddress: '10.97.2.10', crackerAddress: '10.97.3.10',
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
}

/** Why the lab cannot run here, or null when it can: root, iproute2, nft, and the programs it drives. */
export function labUnavailable(programs: readonly string[]): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
  const missing = ['ip', 'nsenter', 'nft', ...programs].filter((program) => {
    try {
      execFileSync('sh', ['-c', 'command -v "$1"', 'sh', program], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) return `missing programs: ${missing.join(', ')} (apt-get install kamailio sipvicious sip-tester nftables iproute2 util-linux)`;
  return null;
}
