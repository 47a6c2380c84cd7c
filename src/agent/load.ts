import { freemem, loadavg, totalmem } from 'node:os';

/** One reading of how busy an agent's device is. */
export interface LoadSample {
  /** CPU time the agent process used since the last sample, in cores (1 = one core busy). */
  cpu: number;
  loadavg: number[];
  rss: number;
  memFree: number;
  memTotal: number;
}

/** Measures the agent's CPU use between two samples, and the device's memory and load. */
export class LoadMeter {
  #cpu = process.cpuUsage();
  #at = process.hrtime.bigint();

  sample(): LoadSample {
    const cpu = process.cpuUsage();
    const at = process.hrtime.bigint();
    const usedMicros = cpu.user - this.#cpu.user + (cpu.system - this.#cpu.system);
    const wallMicros = Number(at - this.#at) / 1000;
    this.#cpu = cpu;
    this.#at = at;
    return {
      cpu: wallMicros > 0 ? Math.round((usedMicros / wallMicros) * 1000) / 1000 : 0,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      rss: process.memoryUsage.rss(),
      memFree: freemem(),
      memTotal: totalmem(),
    };
  }
}
