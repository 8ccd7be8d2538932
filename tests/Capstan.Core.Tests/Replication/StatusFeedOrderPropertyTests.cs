namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Spans;
using CsCheck;
using static ManagerTestKit;

/// <summary>
/// The replication manager feeds a large run of heartbeat responses in span order rather than
/// response by response (a cache-friendly walk over many sets). Each set must see exactly the
/// same statuses in the same order either way, so both ways must end in the same sets, the same
/// requests (as a multiset: requests of different sets may come out in another order) and the
/// same error.
/// </summary>
public class StatusFeedOrderPropertyTests
{
    private static readonly string[] Captures = ["a", "b", "c", "d"];
    private static readonly Span[] Spans = [.. Enumerable.Range(1, 10).Select(i => T(i))];
    private static readonly TableState[] States =
        [TableState.Absent, TableState.Preparing, TableState.Prepared, TableState.Replicating, TableState.Stopping, TableState.Stopped];

    private readonly record struct Report(int Capture, int Span, int State, int Ts);

    private static readonly Gen<Report> GenReport =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 11], Gen.Int[0, 5], Gen.Int[0, 30]).Select(t => new Report(t.Item1, t.Item2, t.Item3, t.Item4));

    [Fact(DisplayName = "Property: feeding heartbeat responses in span order ends exactly as feeding them response by response")]
    public void SpanOrderFeed_EqualsResponseByResponse()
    {
        Gen.Select(GenReport.Array[0, 30], GenReport.Array[1, 12].Array[1, 6].Array[1, 4], Gen.Bool)
            .Sample(
                (initial, runs, sorted) => Same(initial, runs, sorted),
                iter: 3_000,
                print: t => $"initial [{string.Join(" ", t.Item1)}], runs [{string.Join(" | ", t.Item2.Select(r => string.Join(" ; ", r.Select(m => string.Join(" ", m)))))}], sorted {t.Item3}");
    }

    [Fact(DisplayName = "Span-order feed: a span reported by two captures in one run sees both statuses in message order")]
    public void SpanOrderFeed_RepeatedSpan_KeepsMessageOrder()
    {
        var manager = Rebuilt(10, ("a", Status(T(1), TableState.Replicating, 5, 5)), ("b", Status(T(1), TableState.Prepared, 5, 5)));
        manager.FeedInSpanOrder = true;
        // a stops (move: the source hands over), then b reports Prepared: the set goes on to commit b.
        var outbox = manager.Handle(
            Heartbeat("a", Status(T(1), TableState.Stopped, 9, 9)),
            Heartbeat("b", Status(T(1), TableState.Prepared, 5, 5)));
        Assert.Equal(ReplicationSetState.Commit, manager.Set(T(1)).State);
        Assert.Equal(new Ts(9), manager.Set(T(1)).Checkpoint.CheckpointTs);
        Assert.NotEmpty(outbox);
        Assert.All(outbox, request =>
        {
            Assert.Equal("b", request.To.Value);
            Assert.False(request.DispatchTableRequest!.AddTable!.IsSecondary); // the commit, at the source's final checkpoint
            Assert.Equal(new Ts(9), request.DispatchTableRequest.AddTable.Checkpoint.CheckpointTs);
        });
    }

    private static bool Same(Report[] initial, Report[][][] runs, bool sorted)
    {
        var byOrder = Build(initial, spanOrder: false);
        var bySpan = Build(initial, spanOrder: true);
        if (byOrder is null || bySpan is null)
        {
            return (byOrder is null) == (bySpan is null);
        }

        foreach (var run in runs)
        {
            var messages = run.Select(response => Response(response, sorted)).ToArray();
            var (outOrder, errorOrder) = Feed(byOrder, messages);
            var (outSpan, errorSpan) = Feed(bySpan, messages);
            Assert.Equal(errorOrder, errorSpan);
            if (errorOrder is not null)
            {
                return true; // the coordinator fails such a tick; both failed alike
            }

            Assert.Equal(outOrder, outSpan);
            Assert.Equal(Describe(byOrder), Describe(bySpan));
        }

        return true;
    }

    private static ReplicationManager? Build(Report[] initial, bool spanOrder)
    {
        var reports = new Dictionary<(int, int), TableStatus>();
        foreach (var report in initial.Where(r => r.Span < Spans.Length))
        {
            reports[(report.Capture, report.Span)] = Status(Spans[report.Span], States[report.State], (ulong)report.Ts, (ulong)report.Ts);
        }

        try
        {
            var manager = Rebuilt(10, [.. reports.Select(r => (Captures[r.Key.Item1], r.Value))]);
            manager.FeedInSpanOrder = spanOrder;
            return manager;
        }
        catch (ReplicationSetInconsistentException)
        {
            return null; // includes two primaries
        }
    }

    /// <summary>One capture's response; its statuses in span order when <paramref name="sorted"/> (as agents send them); spans 10 and 11 are unknown.</summary>
    private static Message Response(Report[] statuses, bool sorted)
    {
        var capture = Captures[statuses[0].Capture];
        var list = statuses.Select(r => Status(
            r.Span < Spans.Length ? Spans[r.Span] : T(100 + r.Span), States[r.State], (ulong)r.Ts, (ulong)r.Ts));
        if (sorted)
        {
            list = list.OrderBy(s => s.Span);
        }

        return Heartbeat(capture, [.. list]);
    }

    private static (string[] Outbox, string? Error) Feed(ReplicationManager manager, Message[] messages)
    {
        var outbox = new List<Message>();
        try
        {
            manager.HandleMessages(messages, outbox);
            return ([.. outbox.Select(m => m.ToString()).Order(StringComparer.Ordinal)], null);
        }
        catch (ReplicationSetInconsistentException)
        {
            // Which set fails first depends on the order, so only "failed" is compared: a status
            // that makes its set fail does so whatever other sets saw before.
            return ([], "inconsistent");
        }
    }

    private static string Describe(ReplicationManager manager)
    {
        var sets = new List<string>();
        foreach (var (_, set) in manager.Spans.Ordered())
        {
            sets.Add(set.ToString());
        }

        return string.Join("\n", sets);
    }
}
