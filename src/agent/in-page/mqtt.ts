/**
 * `mqtt` for the browser agent's bundles: MQTT.js's own browser build (the one the
 * dashboard's page imports), which has only a default export, giving `connect` by name
 * as the package's Node entry does. Over `ws://` and `wss://` only, as any page.
 * @module
 */
import type * as Mqtt from 'mqtt';
// @ts-expect-error: the browser build's file has no type declarations; its API is the package's.
import mqtt from 'mqtt/dist/mqtt.esm';

export const connect: typeof Mqtt.connect = (mqtt as typeof Mqtt).connect;
