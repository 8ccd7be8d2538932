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
}
