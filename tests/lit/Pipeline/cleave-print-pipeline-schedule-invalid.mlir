// Bad options fail with one message each, saying what to change.

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=0" 2>&1 | FileCheck %s --check-prefix=STAGES
// STAGES: error: cleave-print-pipeline-schedule: pipeline stages must be at least 1, got 0

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=2 micro-batches=-1" 2>&1 | FileCheck %s --check-prefix=MICRO
// MICRO: error: cleave-print-pipeline-schedule: micro-batches must be at least 1, got -1

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=2 micro-batches=4 virtual-stages=0 schedule=interleaved" 2>&1 | FileCheck %s --check-prefix=VIRTUAL
// VIRTUAL: error: cleave-print-pipeline-schedule: virtual stages must be at least 1, got 0

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=2 micro-batches=4 virtual-stages=2" 2>&1 | FileCheck %s --check-prefix=NOT-INTERLEAVED
// NOT-INTERLEAVED: error: cleave-print-pipeline-schedule: 2 virtual stages need the interleaved schedule, not 1f1b: use --schedule interleaved or --virtual-stages 1

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=4 micro-batches=6 virtual-stages=2 schedule=interleaved" 2>&1 | FileCheck %s --check-prefix=DIVIDE
// DIVIDE: error: cleave-print-pipeline-schedule: the interleaved schedule needs micro-batches to be a multiple of the pipeline stages (as Megatron-LM does): 6 micro-batches on 4 stages; use 4 or 8 micro-batches

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="stages=2 schedule=pipedream" 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: cleave-print-pipeline-schedule: unknown pipeline schedule 'pipedream': use gpipe, 1f1b, interleaved or zb-h1

// RUN: not cleave-opt %s -o /dev/null --cleave-print-pipeline-schedule="output=%t.missing/dir/schedule.txt" 2>&1 | FileCheck %s --check-prefix=OUTPUT
// OUTPUT: error: cleave-print-pipeline-schedule: cannot write '{{.*}}schedule.txt':

module {
}
