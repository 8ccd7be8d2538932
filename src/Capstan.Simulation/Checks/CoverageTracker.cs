namespace Capstan.Simulation.Checks;

using Capstan.Core.Model;
using Capstan.Core.Spans;
using Capstan.Runtime.Workload;

/// <summary>
/// Follows, per table, how far the ranges applied downstream cover its history without a hole:
/// <see cref="CoveredOf"/> is the largest ts such that every range (start, ts] was applied by some
/// writer. It is fed by the <see cref="ReplicationLedger"/> as ranges are recorded, so checking
/// "nothing below the persisted checkpoint was skipped" costs one comparison per table.
/// Ranges that start beyond the covered prefix (a hole so far) wait until the hole is filled.
/// </summary>
internal sealed class CoverageTracker
{
    private readonly Dictionary<long, TableCoverage> _tables = [];

    /// <summary>A table whose history starts after <paramref name="startTs"/>.</summary>
    public void Register(TableId table, Ts startTs) => _tables.Add(table.Value, new TableCoverage(startTs));

    /// <summary>Where the table's required history starts.</summary>
    public Ts StartOf(TableId table) => _tables[table.Value].Start;

    /// <summary>Everything in (start, result] was applied.</summary>
    public Ts CoveredOf(TableId table) => _tables[table.Value].Covered;

    /// <summary>Ranges that arrived beyond the covered prefix and are still waiting (a hole, for now).</summary>
    public int PendingOf(TableId table) => _tables[table.Value].Pending?.Count ?? 0;

    /// <summary>The ledger's observer.</summary>
    public void OnApplied(ChangefeedId changefeed, Span span, AppliedRange range)
    {
        if (_tables.TryGetValue(span.TableId.Value, out var coverage))
        {
            coverage.Add(range.From, range.To);
        }
    }

    private sealed class TableCoverage(Ts start)
    {
        public Ts Start { get; } = start;

        public Ts Covered { get; private set; } = start;

        public List<(Ts From, Ts To)>? Pending { get; private set; }

        public void Add(Ts from, Ts to)
        {
            if (from > Covered)
            {
                (Pending ??= []).Add((from, to));
                return;
            }

            Covered = Ts.MaxOf(Covered, to);
            if (Pending is not null)
            {
                Absorb();
            }
        }

        private void Absorb()
        {
            bool progressed = true;
            while (progressed && Pending!.Count > 0)
            {
                progressed = false;
                for (int i = Pending.Count - 1; i >= 0; i--)
                {
                    if (Pending[i].From <= Covered)
                    {
                        Covered = Ts.MaxOf(Covered, Pending[i].To);
                        Pending.RemoveAt(i);
                        progressed = true;
                    }
                }
            }
        }
    }
}
