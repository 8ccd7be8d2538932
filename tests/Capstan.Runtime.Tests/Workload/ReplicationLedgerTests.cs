namespace Capstan.Runtime.Tests.Workload;

using Capstan.Core.Model;
using Capstan.Core.Spans;
using Capstan.Runtime.Workload;

public class ReplicationLedgerTests
{
    private static readonly ChangefeedId Feed = "feed";
    private static readonly Span Table1 = TableSpans.WholeTable(1);
    private static readonly SinkWriter A = new("a", new ProcessorEpoch("1"));
    private static readonly SinkWriter B = new("b", new ProcessorEpoch("1"));

    private static Ts T(long ms) => Ts.FromPhysical(ms);

    [Fact(DisplayName = "Ledger: a tracked handle records exactly what recording by (changefeed, span) records")]
    public void RecordApplied_ThroughTrackedHandle_SameAsByKey()
    {
        var byKey = new ReplicationLedger();
        byKey.RecordApplied(Feed, Table1, A, T(100), T(150), 5);
        byKey.RecordApplied(Feed, Table1, A, T(150), T(200), 5);
        byKey.RecordApplied(Feed, Table1, B, T(200), T(300), 10);
        var reported = new List<AppliedRange>();
        var byHandle = new ReplicationLedger((_, _, range) => reported.Add(range));
        var tracked = byHandle.Track(Feed, TableSpans.WholeTable(1));

        byHandle.RecordApplied(tracked, A, T(100), T(150), 5);
        byHandle.RecordApplied(tracked, A, T(150), T(200), 5);
        byHandle.RecordApplied(Feed, Table1, B, T(200), T(300), 10);

        Assert.Same(tracked, byHandle.Track(Feed, Table1));
        Assert.Equal(byKey.Get(Feed, Table1).Ranges, byHandle.Get(Feed, Table1).Ranges);
        Assert.Equal(2, byHandle.RangeCount); // A's two pieces were merged
        Assert.Equal(3, reported.Count); // the observer sees every piece as applied
        Assert.Equal([Table1], byHandle.Spans(Feed));
    }

    [Fact(DisplayName = "Ledger: a handle of another ledger, or an empty range, is refused")]
    public void RecordApplied_ForeignHandleOrEmptyRange_Throws()
    {
        var ledger = new ReplicationLedger();
        var foreign = new ReplicationLedger().Track(Feed, Table1);
        var own = ledger.Track(Feed, Table1);

        Assert.Throws<ArgumentException>(() => ledger.RecordApplied(foreign, A, T(1), T(2), 1));
        Assert.Throws<ArgumentException>(() => ledger.RecordApplied(own, A, T(2), T(2), 0));
        Assert.Equal(0, ledger.RangeCount);
    }

    [Fact(DisplayName = "Ledger: a writer continuing its earlier range after another writer's is merged into it, in place")]
    public void RecordApplied_ContinuationBehindAnotherWriter_MergesInPlace()
    {
        var ledger = new ReplicationLedger();
        var tracked = ledger.Track(Feed, Table1);

        ledger.RecordApplied(tracked, A, T(100), T(150), 5);
        ledger.RecordApplied(tracked, B, T(300), T(400), 10);
        ledger.RecordApplied(tracked, A, T(150), T(200), 5); // continues A's range, not the last one
        ledger.RecordApplied(tracked, B, T(400), T(450), 5);

        Assert.Equal(
            [new AppliedRange(A, T(100), T(200), 10), new AppliedRange(B, T(300), T(450), 15)],
            ledger.Get(Feed, Table1).Ranges);
    }

    [Fact(DisplayName = "Ledger: only the last four ranges are merge candidates; an older continuation is a new range")]
    public void RecordApplied_ContinuationOlderThanFourRanges_IsANewRange()
    {
        var ledger = new ReplicationLedger();
        var tracked = ledger.Track(Feed, Table1);
        ledger.RecordApplied(tracked, A, T(100), T(110), 1);
        for (int i = 0; i < 4; i++)
        {
            ledger.RecordApplied(tracked, B, T(200 + (20 * i)), T(210 + (20 * i)), 1); // gaps: never contiguous
        }

        ledger.RecordApplied(tracked, A, T(110), T(120), 1);

        var ranges = ledger.Get(Feed, Table1).Ranges;
        Assert.Equal(6, ranges.Count);
        Assert.Equal(new AppliedRange(A, T(110), T(120), 1), ranges[^1]);
        Assert.Equal(new AppliedRange(A, T(100), T(110), 1), ranges[0]);
    }

    [Fact(DisplayName = "Ledger: a batch is recorded like the same ranges one by one, and an empty range refuses the whole batch")]
    public void RecordApplied_Batch_SameAsOneByOne()
    {
        var reported = new List<AppliedRange>();
        var ledger = new ReplicationLedger((_, _, range) => reported.Add(range));
        var one = ledger.Track(Feed, Table1);
        var two = ledger.Track(Feed, TableSpans.WholeTable(2));

        ledger.RecordApplied([new TrackedRange(one, new(A, T(100), T(150), 5)), new TrackedRange(two, new(A, T(100), T(120), 2))]);
        ledger.RecordApplied([new TrackedRange(one, new(A, T(150), T(160), 1))]);

        Assert.Equal([new AppliedRange(A, T(100), T(160), 6)], ledger.Get(Feed, Table1).Ranges);
        Assert.Equal([new AppliedRange(A, T(100), T(120), 2)], ledger.Get(Feed, TableSpans.WholeTable(2)).Ranges);
        Assert.Equal(3, reported.Count);
        Assert.Throws<ArgumentException>(() => ledger.RecordApplied(
            [new TrackedRange(two, new(A, T(120), T(130), 1)), new TrackedRange(one, new(A, T(160), T(160), 0))]));
        Assert.Equal(T(120), ledger.Get(Feed, TableSpans.WholeTable(2)).Ranges[^1].To); // nothing of the refused batch
    }
}
