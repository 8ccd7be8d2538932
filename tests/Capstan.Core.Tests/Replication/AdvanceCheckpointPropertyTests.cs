namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using CsCheck;
using static ManagerTestKit;

/// <summary>
/// The cursor/galloping watermark walk agrees with a naive per-table model on random layouts
/// (whole, split, gaps, overlaps, missing ends; table 0 included) and random table lists
/// (any order, duplicates, absent tables).
/// </summary>
public class AdvanceCheckpointPropertyTests
{
    private enum Layout
    {
        Missing,
        Whole,
        TwoContiguous,
        ThreeContiguous,
        Gap,
        Overlap,
        NoFirst,
        NoLast,
    }

    private sealed record SpanProgress(Span Span, ulong CheckpointTs, ulong ResolvedTs, ulong LastSyncedTs, ulong PullerTs);

    private static readonly Gen<(Layout Layout, int[] Values)> GenTable =
        Gen.Select(
            Gen.Int[0, 15].Select(i => i switch
            {
                <= 3 or 15 => Layout.Whole,
                <= 6 => Layout.TwoContiguous,
                <= 9 => Layout.ThreeContiguous,
                _ => (Layout)((i - 10) switch { 0 => 0, 1 => 4, 2 => 5, 3 => 6, _ => 7 }),
            }),
            Gen.Int[1, 50].Array[12]);

    private static readonly Gen<((Layout Layout, int[] Values)[] Tables, int[] Current, ulong Barrier)> GenScenario =
        Gen.Select(GenTable.Array[8], Gen.Int[0, 8].Array[0, 12], Gen.Int[1, 60].Select(b => (ulong)b));

    [Fact(DisplayName = "Property: the watermark equals a naive per-table computation for any layout and any table order")]
    public void AdvanceCheckpoint_MatchesNaiveModel()
    {
        int proceeded = 0;
        GenScenario.Sample(scenario =>
        {
            var spans = new List<SpanProgress>();
            for (int table = 0; table < scenario.Tables.Length; table++)
            {
                spans.AddRange(Build(table, scenario.Tables[table].Layout, scenario.Tables[table].Values));
            }

            var manager = Rebuilt(1, [.. spans.Select(s => ("c", new TableStatus(
                s.Span, TableState.Replicating, new Checkpoint(s.CheckpointTs, s.ResolvedTs, s.LastSyncedTs), Puller(s.PullerTs))))]);
            var current = scenario.Current.Select(t => new TableId(t)).ToList();
            var ranges = new TableRanges();
            ranges.UpdateTables(current);

            var expected = Naive(spans, current, scenario.Barrier, out var slowestSink, out var slowestPuller);
            proceeded += expected.CanProceed && current.Count > 1 ? 1 : 0;
            for (int round = 0; round < 2; round++)
            {
                var actual = manager.AdvanceCheckpoint(ranges, scenario.Barrier, scenario.Barrier);
                Assert.Equal(expected, actual);
                if (actual.CanProceed && current.Count > 0)
                {
                    Assert.Equal(slowestSink, manager.SlowestSink);
                    Assert.Equal(slowestPuller, manager.SlowestPuller);
                }
            }
        }, iter: 3_000, threads: 1);
        // About a tenth of the samples can proceed (mean ≈ 300); a handful suffices to show the model is exercised.
        Assert.True(proceeded > 30, $"only {proceeded} samples could proceed");
    }

    private static IEnumerable<SpanProgress> Build(long table, Layout layout, int[] v)
    {
        byte[] start = TableSpans.TableStartKey(table);
        byte[] end = TableSpans.TableEndKey(table);
        byte[] K(byte suffix) => [.. start, suffix];
        SpanProgress P(byte[] from, byte[] to, int i) =>
            new(new Span(table, from, to), (ulong)v[i], (ulong)(v[i] + v[i + 1]), (ulong)v[i + 2], (ulong)v[i + 3]);

        return layout switch
        {
            Layout.Missing => [],
            Layout.Whole => [P(start, end, 0)],
            Layout.TwoContiguous => [P(start, K(5), 0), P(K(5), end, 4)],
            Layout.ThreeContiguous => [P(start, K(3), 0), P(K(3), K(7), 4), P(K(7), end, 8)],
            Layout.Gap => [P(start, K(3), 0), P(K(4), end, 4)],
            Layout.Overlap => [P(start, K(5), 0), P(K(4), end, 4)],
            Layout.NoFirst => [P(K(5), end, 4)],
            _ => [P(start, K(5), 0)],
        };
    }

    private static Watermark Naive(List<SpanProgress> spans, List<TableId> current, ulong barrier, out Span? slowestSink, out Span? slowestPuller)
    {
        slowestSink = null;
        slowestPuller = null;
        if (current.Count == 0)
        {
            return new Watermark(barrier, barrier, 0, Ts.Max);
        }

        ulong checkpoint = ulong.MaxValue, resolved = ulong.MaxValue, lastSynced = 0, puller = ulong.MaxValue, slowestResolved = ulong.MaxValue;
        bool anySink = false, anyPuller = false;
        foreach (var table in current)
        {
            var own = spans.Where(s => s.Span.TableId == table).OrderBy(s => s.Span).ToList();
            if (!Covers(own, table))
            {
                return Watermark.CannotProceed;
            }

            foreach (var s in own)
            {
                if (!anySink || s.CheckpointTs < checkpoint || (s.CheckpointTs == checkpoint && s.ResolvedTs < slowestResolved))
                {
                    (checkpoint, slowestResolved, slowestSink, anySink) = (s.CheckpointTs, s.ResolvedTs, s.Span, true);
                }

                resolved = Math.Min(resolved, s.ResolvedTs);
                lastSynced = Math.Max(lastSynced, s.LastSyncedTs);
                if (!anyPuller || s.PullerTs < puller)
                {
                    (puller, slowestPuller, anyPuller) = (s.PullerTs, s.Span, true);
                }
            }
        }

        return new Watermark(Math.Min(checkpoint, barrier), resolved, lastSynced, puller);
    }

    private static bool Covers(List<SpanProgress> own, TableId table)
    {
        if (own.Count == 0 || !own[0].Span.StartKey.SequenceEqual(TableSpans.TableStartKey(table))
            || !own[^1].Span.EndKey.SequenceEqual(TableSpans.TableEndKey(table)))
        {
            return false;
        }

        for (int i = 1; i < own.Count; i++)
        {
            if (!own[i - 1].Span.EndKey.SequenceEqual(own[i].Span.StartKey))
            {
                return false;
            }
        }

        return true;
    }
}
