//! The one list of rules: one line per rule, `Id module "name"`, grouped by input kind. It is
//! read twice: here, to define [`RuleId`] (all a finding needs to name its rule), and by
//! [`crate::rules`], to build the registry (the rule modules, their implementations and
//! catalogue entries). This module imports nothing, so every stage may name rules.
//!
//! Adding a rule adds one line here (`cargo xtask new-rule` writes it).

/// Calls `$then!` with the list.
macro_rules! rule_list {
    ($then:ident) => {
        $then! {
            statement {
                IndexNotConcurrent index_not_concurrent "index-not-concurrent",
                DropIndexNotConcurrent drop_index_not_concurrent "drop-index-not-concurrent",
                ReindexNotConcurrent reindex_not_concurrent "reindex-not-concurrent",
                ConcurrentInTransaction concurrent_in_transaction "concurrent-in-transaction",
                ForeignKeyWithoutNotValid foreign_key_without_not_valid "foreign-key-without-not-valid",
                CheckWithoutNotValid check_without_not_valid "check-without-not-valid",
                SetNotNull set_not_null "set-not-null",
                AddColumnVolatileDefault add_column_volatile_default "add-column-volatile-default",
                AddRequiredColumn add_required_column "add-required-column",
                AddColumnRewrite add_column_rewrite "add-column-rewrite",
                AlterColumnType alter_column_type "alter-column-type",
                RenameColumn rename_column "rename-column",
                RenameTable rename_table "rename-table",
                DropColumn drop_column "drop-column",
                DropTable drop_table "drop-table",
                UniqueConstraintWithoutIndex unique_constraint_without_index "unique-constraint-without-index",
                BlockingMaintenance blocking_maintenance "blocking-maintenance",
                MissingLockTimeout missing_lock_timeout "missing-lock-timeout",
                DynamicSqlNotChecked dynamic_sql_not_checked "dynamic-sql-not-checked",
            }
            schema {
                UnindexedForeignKey unindexed_foreign_key "unindexed-foreign-key",
                CascadeOnPhi cascade_on_phi "cascade-on-phi",
                MissingSoftDelete missing_soft_delete "missing-soft-delete",
                UniqueIgnoresSoftDelete unique_ignores_soft_delete "unique-ignores-soft-delete",
                MissingPrimaryKey missing_primary_key "missing-primary-key",
                TenantTableWithoutRls tenant_table_without_rls "tenant-table-without-rls",
                RlsWithoutPolicy rls_without_policy "rls-without-policy",
                MutableAuditLog mutable_audit_log "mutable-audit-log",
                PhiWithoutAuditTrigger phi_without_audit_trigger "phi-without-audit-trigger",
            }
            live {
                InvalidIndex invalid_index "invalid-index",
                DuplicateIndex duplicate_index "duplicate-index",
                UnusedIndex unused_index "unused-index",
                NotValidConstraint not_valid_constraint "not-valid-constraint",
                SequenceNearOverflow sequence_near_overflow "sequence-near-overflow",
                StaleStatistics stale_statistics "stale-statistics",
                SchemaDrift schema_drift "schema-drift",
            }
            query {
                NPlusOne n_plus_one "n-plus-one",
                SelectStar select_star "select-star",
                UpdateWithoutWhere update_without_where "update-without-where",
                DeleteWithoutWhere delete_without_where "delete-without-where",
                MissingSoftDeleteFilter missing_soft_delete_filter "missing-soft-delete-filter",
                HardDeleteOnSoftDeleteTable hard_delete_on_soft_delete_table "hard-delete-on-soft-delete-table",
                UnindexedPredicate unindexed_predicate "unindexed-predicate",
                LeadingWildcardLike leading_wildcard_like "leading-wildcard-like",
                NonSargablePredicate non_sargable_predicate "non-sargable-predicate",
                LargeOffset large_offset "large-offset",
                OrderByRandom order_by_random "order-by-random",
                NotInSubquery not_in_subquery "not-in-subquery",
                PoolerIncompatible pooler_incompatible "pooler-incompatible",
            }
            plan {
                OverBudget over_budget "over-budget",
                SeqScanDiscardsRows seq_scan_discards_rows "seq-scan-discards-rows",
                IndexScanDiscardsRows index_scan_discards_rows "index-scan-discards-rows",
                RowMisestimate row_misestimate "row-misestimate",
                SortSpill sort_spill "sort-spill",
                HashSpill hash_spill "hash-spill",
                NestedLoopInnerScan nested_loop_inner_scan "nested-loop-inner-scan",
                LossyBitmap lossy_bitmap "lossy-bitmap",
                IndexOnlyHeapFetches index_only_heap_fetches "index-only-heap-fetches",
                FkTriggerSlow fk_trigger_slow "fk-trigger-slow",
                JitOverhead jit_overhead "jit-overhead",
                PlanningTimeHigh planning_time_high "planning-time-high",
            }
            builtin {
                QueryRefused "query-refused",
                QueryFailed "query-failed",
                BudgetNotMeasured "budget-not-measured",
                SequenceConsumed "sequence-consumed",
                SyntaxError "syntax-error",
                UnusedSuppression "unused-suppression",
                SuppressionWithoutReason "suppression-without-reason",
                InternalError "internal-error",
            }
        }
    };
}
pub(crate) use rule_list;

macro_rules! define_ids {
    ($($kind:ident { $($id:ident $($module:ident)? $name:literal,)* })*) => {
        /// A rule's identity. Its order is the registry's (`RULES[id.index()]`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($($id,)*)*
        }

        impl RuleId {
            /// Every rule, in registry (documentation) order.
            pub const ALL: &'static [RuleId] = &[$($(RuleId::$id,)*)*];

            /// The rule's kebab-case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($(RuleId::$id => $name,)*)*
            }
            }

            /// The rule with this exact name (aliases are the catalogue's: see `rules::lookup`).
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($($name => Some(RuleId::$id),)*)*
                    _ => None,
            }
            }
        }
    };
}

rule_list!(define_ids);

impl RuleId {
    /// The rule's position in the registry.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl PartialEq<String> for RuleId {
    fn eq(&self, other: &String) -> bool {
        self.name() == other
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
