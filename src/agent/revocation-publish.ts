/**
 * The authority's revocation list through the broker (`wasmig fleet revoke NAME
 * --broker URL`): retained on `wasmig/v1/fleet/revoked`, so that every device with an
 * identity takes it on connecting and at once while connected, without copying files.
 * The list carries the authority's signature: the broker and whoever may publish there
 * can withhold it (the ACL lets one admin user write it), never forge or roll it back
 * (devices take only a list issued after the one they hold).
 */
import type { ConnectionOptions } from './connection.ts';
import { newId } from './messages.ts';
import { MqttLink } from './mqtt-link.ts';
import type { RevocationDocument } from './revocation.ts';
import { topics } from './topics.ts';

/** Publishes `doc` (signed by the authority), retained; resolves once the broker holds it. */
export async function publishRevocations(connection: ConnectionOptions, doc: RevocationDocument): Promise<void> {
  const link = await MqttLink.open({ connection, clientId: `wasmig-revoke-${newId().slice(0, 12)}`, persistent: false, onMessage: () => {} });
  try {
    await link.publish(topics.fleetRevoked, JSON.stringify(doc), { qos: 1, retain: true });
  } finally {
    await link.close();
  }
}
