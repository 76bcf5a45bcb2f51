/** The OTP simulator seen as a node-hid device: 8-byte feature reports each way. */
import type { FeatureReportPort } from '../../../src/transport/hid-reports.js';
import type { YubiOtpSimulator } from '../../../drivers/yubikey/otp/simulator.js';

export function hidPortOf(sim: YubiOtpSimulator): FeatureReportPort {
  return {
    sendFeatureReport: async (r) => sim.sendFeatureReport(r),
    getFeatureReport: async () => sim.getFeatureReport(),
  };
}
