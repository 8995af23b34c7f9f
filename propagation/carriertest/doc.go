// Package carriertest checks that a [propagation.Carrier] implementation
// behaves as the propagators expect, in the manner of testing/slogtest: the
// gRPC metadata and Kafka header carriers, and any a user writes, run the
// same checks.
//
//	func TestCarrier(t *testing.T) {
//		carriertest.Run(t, func() propagation.Carrier { return NewCarrier(...) },
//			carriertest.CaseInsensitive())
//	}
package carriertest
