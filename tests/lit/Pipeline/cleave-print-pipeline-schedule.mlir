// The per-stage orders for S = 4 stages and M = 8 micro-batches, written
// out by hand from the published schedules (not from this pass's output).
// Chunk c runs on stage c % 4; F<c>.<m> is chunk c's forward on micro-batch
// m, B<c>.<m> its backward.

// GPipe (Huang et al. 2019) as Megatron-LM's paper draws it (Narayanan et
// al. 2021, Fig. 3) and torch.distributed.pipelining's ScheduleGPipe runs
// it: every forward, then every backward, micro-batches in order.
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=4 micro-batches=8 schedule=gpipe" | FileCheck %s --check-prefix=GPIPE --match-full-lines
// GPIPE:      schedule gpipe stages 4 micro-batches 8 virtual-stages 1
// GPIPE-NEXT: stage 0: F0.0 F0.1 F0.2 F0.3 F0.4 F0.5 F0.6 F0.7 B0.0 B0.1 B0.2 B0.3 B0.4 B0.5 B0.6 B0.7
// GPIPE-NEXT: stage 1: F1.0 F1.1 F1.2 F1.3 F1.4 F1.5 F1.6 F1.7 B1.0 B1.1 B1.2 B1.3 B1.4 B1.5 B1.6 B1.7
// GPIPE-NEXT: stage 2: F2.0 F2.1 F2.2 F2.3 F2.4 F2.5 F2.6 F2.7 B2.0 B2.1 B2.2 B2.3 B2.4 B2.5 B2.6 B2.7
// GPIPE-NEXT: stage 3: F3.0 F3.1 F3.2 F3.3 F3.4 F3.5 F3.6 F3.7 B3.0 B3.1 B3.2 B3.3 B3.4 B3.5 B3.6 B3.7
// GPIPE-EMPTY:

// 1F1B (PipeDream-Flush; Narayanan et al. 2021, Fig. 4 top; Megatron-LM's
// forward_backward_pipelining_without_interleaving): stage p runs
// S - p - 1 warm-up forwards, then forward/backward pairs, then the
// remaining backwards.
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=4 micro-batches=8" | FileCheck %s --check-prefix=1F1B --match-full-lines
// 1F1B:      schedule 1f1b stages 4 micro-batches 8 virtual-stages 1
// 1F1B-NEXT: stage 0: F0.0 F0.1 F0.2 F0.3 B0.0 F0.4 B0.1 F0.5 B0.2 F0.6 B0.3 F0.7 B0.4 B0.5 B0.6 B0.7
// 1F1B-NEXT: stage 1: F1.0 F1.1 F1.2 B1.0 F1.3 B1.1 F1.4 B1.2 F1.5 B1.3 F1.6 B1.4 F1.7 B1.5 B1.6 B1.7
// 1F1B-NEXT: stage 2: F2.0 F2.1 B2.0 F2.2 B2.1 F2.3 B2.2 F2.4 B2.3 F2.5 B2.4 F2.6 B2.5 F2.7 B2.6 B2.7
// 1F1B-NEXT: stage 3: F3.0 B3.0 F3.1 B3.1 F3.2 B3.2 F3.3 B3.3 F3.4 B3.4 F3.5 B3.5 F3.6 B3.6 F3.7 B3.7
// 1F1B-EMPTY:

// Interleaved 1F1B with V = 2 (Narayanan et al. 2021, Fig. 4 bottom;
// Megatron-LM's forward_backward_pipelining_with_interleaving): stage p
// holds chunks p and p + 4 (its local chunks 0 and 1). Its virtual
// micro-batches k = 0..15 take micro-batches in groups of S = 4, each group
// through local chunk 0 then 1 (get_schedule_table): k -> (m, local) =
// 0-3 -> (0-3, 0), 4-7 -> (0-3, 1), 8-11 -> (4-7, 0), 12-15 -> (4-7, 1).
// Forward k runs that local chunk, backward k the other one
// (get_model_chunk_id: V - 1 - local). Warm-up (S - p - 1) * 2 + (V - 1) * S
// = 10, 8, 6, 4 forwards, then forward k + warm-up / backward k pairs, then
// the remaining backwards.
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=4 micro-batches=8 virtual-stages=2 schedule=interleaved" | FileCheck %s --check-prefix=INTERLEAVED --match-full-lines
// INTERLEAVED:      schedule interleaved stages 4 micro-batches 8 virtual-stages 2
// INTERLEAVED-NEXT: stage 0: F0.0 F0.1 F0.2 F0.3 F4.0 F4.1 F4.2 F4.3 F0.4 F0.5 F0.6 B4.0 F0.7 B4.1 F4.4 B4.2 F4.5 B4.3 F4.6 B0.0 F4.7 B0.1 B0.2 B0.3 B4.4 B4.5 B4.6 B4.7 B0.4 B0.5 B0.6 B0.7
// INTERLEAVED-NEXT: stage 1: F1.0 F1.1 F1.2 F1.3 F5.0 F5.1 F5.2 F5.3 F1.4 B5.0 F1.5 B5.1 F1.6 B5.2 F1.7 B5.3 F5.4 B1.0 F5.5 B1.1 F5.6 B1.2 F5.7 B1.3 B5.4 B5.5 B5.6 B5.7 B1.4 B1.5 B1.6 B1.7
// INTERLEAVED-NEXT: stage 2: F2.0 F2.1 F2.2 F2.3 F6.0 F6.1 F6.2 B6.0 F6.3 B6.1 F2.4 B6.2 F2.5 B6.3 F2.6 B2.0 F2.7 B2.1 F6.4 B2.2 F6.5 B2.3 F6.6 B6.4 F6.7 B6.5 B6.6 B6.7 B2.4 B2.5 B2.6 B2.7
// INTERLEAVED-NEXT: stage 3: F3.0 F3.1 F3.2 F3.3 F7.0 B7.0 F7.1 B7.1 F7.2 B7.2 F7.3 B7.3 F3.4 B3.0 F3.5 B3.1 F3.6 B3.2 F3.7 B3.3 F7.4 B7.4 F7.5 B7.5 F7.6 B7.6 F7.7 B7.7 B3.4 B3.5 B3.6 B3.7
// INTERLEAVED-EMPTY:

// ZB-H1 (Qi et al. 2023, Fig. 3 top): 1F1B's forwards and input-gradient
// backwards (B), each stage p running the weight-gradient pass W of
// micro-batch k after the B of micro-batch k + p, so that the last stages'
// deferred W passes fill the drain.
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=4 micro-batches=8 schedule=zb-h1" | FileCheck %s --check-prefix=ZBH1 --match-full-lines
// ZBH1:      schedule zb-h1 stages 4 micro-batches 8 virtual-stages 1
// ZBH1-NEXT: stage 0: F0.0 F0.1 F0.2 F0.3 B0.0 W0.0 F0.4 B0.1 W0.1 F0.5 B0.2 W0.2 F0.6 B0.3 W0.3 F0.7 B0.4 W0.4 B0.5 W0.5 B0.6 W0.6 B0.7 W0.7
// ZBH1-NEXT: stage 1: F1.0 F1.1 F1.2 B1.0 F1.3 B1.1 W1.0 F1.4 B1.2 W1.1 F1.5 B1.3 W1.2 F1.6 B1.4 W1.3 F1.7 B1.5 W1.4 B1.6 W1.5 B1.7 W1.6 W1.7
// ZBH1-NEXT: stage 2: F2.0 F2.1 B2.0 F2.2 B2.1 F2.3 B2.2 W2.0 F2.4 B2.3 W2.1 F2.5 B2.4 W2.2 F2.6 B2.5 W2.3 F2.7 B2.6 W2.4 B2.7 W2.5 W2.6 W2.7
// ZBH1-NEXT: stage 3: F3.0 B3.0 F3.1 B3.1 F3.2 B3.2 F3.3 B3.3 W3.0 F3.4 B3.4 W3.1 F3.5 B3.5 W3.2 F3.6 B3.6 W3.3 F3.7 B3.7 W3.4 W3.5 W3.6 W3.7
// ZBH1-EMPTY:

// Fewer micro-batches than stages: the warm-up stops at M. Interleaved with
// V = 1 is Megatron-LM's plain 1F1B. One stage runs forward/backward pairs.
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=3 micro-batches=1 schedule=interleaved" | FileCheck %s --check-prefix=SHORT --match-full-lines
// SHORT:      schedule interleaved stages 3 micro-batches 1 virtual-stages 1
// SHORT-NEXT: stage 0: F0.0 B0.0
// SHORT-NEXT: stage 1: F1.0 B1.0
// SHORT-NEXT: stage 2: F2.0 B2.0
// SHORT-EMPTY:
// RUN: cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="micro-batches=3" | FileCheck %s --check-prefix=ONE --match-full-lines
// ONE:      schedule 1f1b stages 1 micro-batches 3 virtual-stages 1
// ONE-NEXT: stage 0: F0.0 B0.0 F0.1 B0.1 F0.2 B0.2
// ONE-EMPTY:

// The `output` option writes the same text to a file; the module is
// printed unchanged.
// RUN: cleave-opt %s --cleave-print-pipeline-schedule="stages=2 micro-batches=2 output=%t" | FileCheck %s --check-prefix=MODULE
// RUN: FileCheck %s --input-file=%t --check-prefix=FILE --match-full-lines
// MODULE-NOT: schedule
// MODULE:     module {
// MODULE-NEXT:  func.func @unchanged()
// FILE:      schedule 1f1b stages 2 micro-batches 2 virtual-stages 1
// FILE-NEXT: stage 0: F0.0 F0.1 B0.0 B0.1
// FILE-NEXT: stage 1: F1.0 B1.0 F1.1 B1.1

module {
  func.func @unchanged() {
    return
  }
}
