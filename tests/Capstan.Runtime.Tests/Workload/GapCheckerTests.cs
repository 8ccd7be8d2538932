namespace Capstan.Runtime.Tests.Workload;

using Capstan.Core.Model;
using Capstan.Core.Spans;
using Capstan.Runtime.Workload;

public class GapCheckerTests
{
    private static readonly ChangefeedId Feed = "feed";
    private static readonly Span Table1 = TableSpans.WholeTable(1);
    private static readonly SinkWriter A = new("a", new ProcessorEpoch("1"));
    private static readonly SinkWriter B = new("b", new ProcessorEpoch("1"));

    private static Ts T(long ms) => Ts.FromPhysical(ms);

    [Fact]
    public void Check_ContiguousHandOver_Passes()
    {
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(150), 5);
        ledger.RecordApplied(Feed, Table1, A, T(150), T(200), 5);
        ledger.RecordApplied(Feed, Table1, B, T(200), T(300), 10);

        var report = GapChecker.CheckTables(ledger, Feed, [1], T(100), T(250));

        Assert.True(report.Passed, report.Describe());
        Assert.Empty(report.Overlaps);
        Assert.Equal(20, report.EventsApplied);
        Assert.Equal(2, ledger.RangeCount); // A's two pieces were merged
    }

    [Fact]
    public void Check_MissingRange_ReportsTheGap()
    {
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(200), 1);
        ledger.RecordApplied(Feed, Table1, B, T(220), T(300), 1);

        var report = GapChecker.CheckTables(ledger, Feed, [1], T(100), T(300));

        Assert.False(report.Passed);
        Assert.Equal([new Gap(Table1, T(200), T(220))], report.Gaps);
    }

    [Fact]
    public void Check_CoverageShortOfTheCheckpoint_ReportsTheTailGap()
    {
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(200), 1);

        var report = GapChecker.CheckTables(ledger, Feed, [1, 2], T(100), T(250));

        Assert.Equal([new Gap(Table1, T(200), T(250)), new Gap(TableSpans.WholeTable(2), T(100), T(250))], report.Gaps);
    }

    [Fact]
    public void Check_TwoLiveWritersSinkingTheSameRange_IsADoubleSink()
    {
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(200), 1);
        ledger.RecordApplied(Feed, Table1, B, T(180), T(300), 1);

        var report = GapChecker.CheckTables(ledger, Feed, [1], T(100), T(300));

        Assert.False(report.Passed);
        Assert.Empty(report.Gaps);
        var overlap = Assert.Single(report.Overlaps);
        Assert.Equal((T(180), T(200), A, B, false), (overlap.From, overlap.To, overlap.Earlier, overlap.Later, overlap.IsReplayAfterCrash));
        Assert.Equal(1, report.DoubleSinkCount);
    }

    [Fact]
    public void Check_SuccessorReplaysTheTailOfACrashedWriter_IsAnAllowedReplay()
    {
        var workload = new TableWorkload(seed: 3, minEventsPerSecond: 1000, maxEventsPerSecond: 1000);
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(200), 100);
        ledger.RecordAbandoned(Feed, Table1, A);
        ledger.RecordApplied(Feed, Table1, B, T(180), T(300), 120);

        var report = GapChecker.CheckTables(ledger, Feed, [1], T(100), T(300), workload);

        Assert.True(report.Passed, report.Describe());
        var overlap = Assert.Single(report.Overlaps);
        Assert.True(overlap.IsReplayAfterCrash);
        Assert.Equal(20, report.EventsReplayed);
        Assert.Equal(200, report.EventsExpected);
    }

    [Fact]
    public void Check_OneWriterApplyingARangeTwice_IsADoubleSink()
    {
        var ledger = new ReplicationLedger();
        ledger.RecordApplied(Feed, Table1, A, T(100), T(200), 1);
        ledger.RecordAbandoned(Feed, Table1, A);
        ledger.RecordApplied(Feed, Table1, B, T(200), T(260), 1);
        ledger.RecordApplied(Feed, Table1, A, T(150), T(210), 1);

        var report = GapChecker.CheckTables(ledger, Feed, [1], T(100), T(260));

        Assert.Equal(1, report.DoubleSinkCount);
    }

    [Fact]
    public void RecordApplied_EmptyRange_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ReplicationLedger().RecordApplied(Feed, Table1, A, T(5), T(5), 0));
    }

    [Fact]
    public void TableWorkload_EventsOfPiecesSumToTheEventsOfTheWhole()
    {
        var workload = new TableWorkload(seed: 11);
        var table = new TableId(42);
        long whole = workload.EventsBetween(table, T(1_000), T(9_999));
        long pieces = 0;
        for (long ms = 1_000; ms < 9_999; ms += 37)
        {
            pieces += workload.EventsBetween(table, T(ms), T(Math.Min(ms + 37, 9_999)));
        }

        Assert.Equal(whole, pieces);
        Assert.InRange(workload.EventsPerSecond(table), 1, 200);
    }
}
