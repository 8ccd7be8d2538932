namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Core.Scheduling;
using Capstan.Core.Spans;
using CsCheck;
using static ManagerTestKit;

/// <summary>
/// Random heartbeats, dispatch responses, tasks and capture deaths against a manager with three
/// spans and four captures, optionally starting from a random rebuild. Checked after every call.
/// </summary>
public class ReplicationManagerPropertyTests
{
    private const int MaxTaskConcurrency = 2;
    private static readonly string[] Captures = ["a", "b", "c", "d"];
    private static readonly Span[] Spans = [T(1), T(2), T(3)];

    private readonly record struct Op(int Kind, int Capture, int Span, int[] States, int Ts)
    {
        public override string ToString() =>
            $"{Kind}/{Captures[Capture]}/t{Span + 1}/[{string.Join(",", States)}]/{Ts}";
    }

    private static readonly Gen<Op> GenOp =
        Gen.Select(Gen.Int[0, 12], Gen.Int[0, 3], Gen.Int[0, 2], Gen.Int[0, 8].Array[3], Gen.Int[0, 40])
            .Select(t => new Op(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5));

    [Fact(DisplayName = "Property: any sequence of agent messages, tasks and capture deaths keeps every set consistent and the manager's bookkeeping sound")]
    public void RandomSequences_KeepManagerInvariants()
    {
        Gen.Select(Gen.Bool, Gen.Int[0, 8].Array[12], GenOp.Array[1, 60])
            .Sample(scenario => Run(scenario.Item1, scenario.Item2, scenario.Item3), iter: 5_000);
    }

    private static void Run(bool rebuild, int[] initial, Op[] ops)
    {
        var manager = new ReplicationManager(MaxTaskConcurrency);
        var outbox = new List<Message>();
        if (rebuild && !TryRebuild(manager, initial, outbox))
        {
            return;
        }

        var checker = new Checker(manager);
        foreach (var op in ops)
        {
            outbox.Clear();
            if (!Apply(manager, op, checker, outbox))
            {
                return; // an error the spec allows; the coordinator would fail the tick
            }

            checker.AfterStep(op, outbox);
        }
    }

    private static bool TryRebuild(ReplicationManager manager, int[] initial, List<Message> outbox)
    {
        var reports = new List<(string, TableStatus)>();
        for (int i = 0; i < initial.Length; i++)
        {
            if (initial[i] <= 6)
            {
                reports.Add((Captures[i % 4], ManagerTestKit.Status(Spans[i / 4], (TableState)initial[i], (ulong)i, (ulong)(i + 3))));
            }
        }

        try
        {
            manager.HandleCaptureChanges(Init([.. reports]), null, 1, outbox);
            return true;
        }
        catch (ReplicationSetMultiplePrimaryException)
        {
            return false;
        }
    }

    private static bool Apply(ReplicationManager manager, Op op, Checker checker, List<Message> outbox)
    {
        string capture = Captures[op.Capture];
        var span = Spans[op.Span];
        bool dead = checker.Dead.Contains(capture);
        try
        {
            switch (op.Kind)
            {
                case <= 4:
                    var statuses = new List<TableStatus>();
                    for (int s = 0; s < Spans.Length; s++)
                    {
                        if (op.States[s] <= 6)
                        {
                            statuses.Add(ManagerTestKit.Status(Spans[s], (TableState)op.States[s], (ulong)op.Ts, (ulong)(op.Ts + s), (ulong)s));
                        }
                    }

                    manager.HandleMessages([Heartbeat(capture, [.. statuses])], outbox);
                    break;
                case 5:
                    manager.HandleMessages([AddResponse(capture, ManagerTestKit.Status(span, (TableState)(op.States[0] % 7), (ulong)op.Ts, (ulong)op.Ts))], outbox);
                    break;
                case 6 when !dead:
                    manager.HandleTasks([new AddTableTask(span, capture, (ulong)op.Ts)], outbox);
                    break;
                case 7:
                    manager.HandleTasks([new RemoveTableTask(span, CaptureId.None)], outbox);
                    break;
                case 8 when !dead:
                    manager.HandleTasks([new MoveTableTask(span, capture)], outbox);
                    break;
                case 9 when !dead:
                    checker.BurstSeen = true;
                    manager.HandleTasks([new BurstBalanceTask(
                        [new AddTableTask(span, capture, (ulong)op.Ts)],
                        [new RemoveTableTask(Spans[(op.Span + 1) % 3], CaptureId.None)],
                        [new MoveTableTask(Spans[(op.Span + 2) % 3], capture)])], outbox);
                    break;
                case 10 when !dead:
                    checker.Dead.Add(capture);
                    manager.HandleCaptureChanges(null, [capture], 0, outbox);
                    break;
                default:
                    manager.HandleTasks([], outbox);
                    break;
            }
        }
        catch (ReplicationSetMultiplePrimaryException) when (op.Kind <= 5)
        {
            return false; // two captures claim to replicate (§3.7)
        }
        catch (ReplicationSetInconsistentException) when (op.Kind is 8 or 9)
        {
            return false; // a move onto a capture holding an Undetermined role (§3.8)
        }

        return true;
    }

    private sealed class Checker(ReplicationManager manager)
    {
        private readonly Dictionary<ReplicationSet, Checkpoint> _checkpoints = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, long> _accepted = new(manager.AcceptedTaskCounts);

        public HashSet<string> Dead { get; } = [];

        public bool BurstSeen { get; set; }

        public void AfterStep(Op op, List<Message> outbox)
        {
            string Context() => $"after {op}: {string.Join(" ", manager.Spans.Ordered().ToArray().Select(p => p.Value.ToString()))}";
            foreach (var (span, set) in manager.Spans.Ordered())
            {
                set.AssertInvariants();
                Check(span == set.Span, () => $"set filed under {span} {Context()}");
                Check(!set.HasRemoved, () => $"removed set kept {Context()}");
                foreach (var (capture, _) in set.Captures)
                {
                    Check(!Dead.Contains(capture.Value), () => $"dead capture {capture} holds a role {Context()}");
                }

                if (_checkpoints.TryGetValue(set, out var before))
                {
                    Check(set.Checkpoint.CheckpointTs >= before.CheckpointTs && set.Checkpoint.ResolvedTs >= before.ResolvedTs,
                        () => $"checkpoint went back from {before} {Context()}");
                }

                _checkpoints[set] = set.Checkpoint;
            }

            Check(BurstSeen || manager.RunningTasks.Count <= MaxTaskConcurrency, () => $"{manager.RunningTasks.Count} running {Context()}");
            foreach (var (kind, count) in manager.AcceptedTaskCounts)
            {
                Check(count >= _accepted.GetValueOrDefault(kind), () => $"counter {kind} went back {Context()}");
                _accepted[kind] = count;
            }

            foreach (var message in outbox)
            {
                Check(message.IsWellFormed && !message.To.IsNone, () => $"malformed {message} {Context()}");
            }
        }

        private static void Check(bool condition, Func<string> message)
        {
            if (!condition)
            {
                Assert.Fail(message());
            }
        }
    }
}
