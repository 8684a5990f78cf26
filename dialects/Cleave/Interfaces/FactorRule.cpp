//===- FactorRule.cpp - the factor-rule op interface ----------------------===//
#include "dialects/Cleave/Interfaces/FactorRule.h"

#include "dialects/Cleave/Interfaces/FactorRuleInterface.cpp.inc"
