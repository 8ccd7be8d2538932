namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using CsCheck;
using static ReplicationTestKit;

/// <summary>
/// Random report / shutdown / add / move / remove sequences on one set, from 3–4 captures,
/// starting from a random rebuild. Safety is checked after every step. CsCheck prints the seed
/// of a failing sample; pass it as <c>seed:</c> to replay.
/// </summary>
public class ReplicationSetPropertyTests
{
    private static readonly string[] CaptureIds = ["a", "b", "c", "d"];

    internal enum OpKind
    {
        Report,
        Shutdown,
        Add,
        Move,
        Remove,
    }

    internal readonly record struct Op(OpKind Kind, int Capture, TableState State, ulong CheckpointTs, ulong ResolvedTs, ulong LastSyncedTs)
    {
        public override string ToString() => Kind == OpKind.Report
            ? $"{CaptureIds[Capture]}:{State}({CheckpointTs},{ResolvedTs},{LastSyncedTs})"
            : $"{Kind}({CaptureIds[Capture]})";
    }

    internal static readonly Gen<Op> GenOp =
        Gen.Select(Gen.Int[0, 11], Gen.Int[0, 3], Gen.Int[0, 6], Gen.Int[0, 40], Gen.Int[0, 40], Gen.Int[0, 40])
            .Select(t => new Op(
                t.Item1 switch { <= 6 => OpKind.Report, 7 => OpKind.Shutdown, 8 or 9 => OpKind.Add, 10 => OpKind.Move, _ => OpKind.Remove },
                t.Item2,
                (TableState)t.Item3,
                (ulong)t.Item4,
                (ulong)t.Item5,
                (ulong)t.Item6));

    /// <summary>Capture count, initial state per capture (7 and 8 mean "not reported"), creation checkpoint, operations.</summary>
    private static readonly Gen<(int Captures, int[] Initial, int CheckpointTs, Op[] Ops)> GenScenario =
        Gen.Select(Gen.Int[3, 4], Gen.Int[0, 8].Array[4], Gen.Int[0, 20], GenOp.Array[1, 80]);

    [Fact(DisplayName = "Property: any sequence of reports, shutdowns and commands keeps the set's invariants; only the spec's errors escape")]
    public void RandomSequences_KeepInvariants()
    {
        GenScenario.Sample(scenario => RunScenario(scenario.Captures, scenario.Initial, (ulong)scenario.CheckpointTs, scenario.Ops), iter: 20_000);
    }

    [Fact(DisplayName = "Property: starting Absent (no rebuild), random commands and reports keep at most one secondary")]
    public void RandomSequencesFromAbsent_KeepInvariants()
    {
        GenOp.Array[1, 120].Sample(ops => RunScenario(3, [7, 7, 7, 7], 5, ops), iter: 20_000);
    }

    private static void RunScenario(int captureCount, int[] initial, ulong checkpointTs, Op[] ops)
    {
        var statuses = new List<KeyValuePair<CaptureId, TableStatus>>();
        for (int i = 0; i < captureCount; i++)
        {
            if (initial[i] <= 6)
            {
                statuses.Add(new(CaptureIds[i], Status(T1, (TableState)initial[i], checkpointTs + (ulong)i, checkpointTs + (ulong)(2 * i))));
            }
        }

        ReplicationSet set;
        try
        {
            set = new ReplicationSet(T1, checkpointTs, statuses);
        }
        catch (ReplicationSetMultiplePrimaryException)
        {
            Assert.True(statuses.Count(s => s.Value.State == TableState.Replicating) >= 2);
            return;
        }

        var checker = new SafetyChecker(set);
        var outbox = new List<Message>();
        foreach (var op in ops)
        {
            if (op.Capture >= captureCount)
            {
                continue;
            }

            outbox.Clear();
            if (!Apply(set, op, outbox))
            {
                return; // an error the spec allows: the coordinator fails the tick and rebuilds
            }

            checker.AfterStep(op, outbox);
        }
    }

    /// <summary>Applies one operation; returns false after an allowed error that ends the set's life.</summary>
    private static bool Apply(ReplicationSet set, Op op, List<Message> outbox)
    {
        string capture = CaptureIds[op.Capture];
        var stateBefore = set.State;
        var roleBefore = set.RoleOf(capture);
        string? before = op.Kind == OpKind.Move ? set.ToString() : null;
        try
        {
            switch (op.Kind)
            {
                case OpKind.Report:
                    set.Poll(Status(T1, op.State, op.CheckpointTs, op.ResolvedTs, op.LastSyncedTs), capture, outbox);
                    break;
                case OpKind.Shutdown:
                    Assert.Equal(roleBefore is not null, set.HandleCaptureShutdown(capture, outbox));
                    break;
                case OpKind.Add:
                    set.HandleAddTable(capture, outbox);
                    break;
                case OpKind.Move:
                    set.HandleMoveTable(capture, outbox);
                    break;
                default:
                    set.HandleRemoveTable(outbox);
                    break;
            }
        }
        catch (ReplicationSetMultiplePrimaryException)
            when (op.Kind == OpKind.Report && op.State == TableState.Replicating && roleBefore is not null
                  and not CaptureRole.Primary && stateBefore is ReplicationSetState.Commit or ReplicationSetState.Replicating)
        {
            // §3.7: a second capture replicating is an error in Commit and Replicating.
            return false;
        }
        catch (ReplicationSetInconsistentException) when (op.Kind == OpKind.Move && roleBefore == CaptureRole.Undetermined)
        {
            // §3.8: a move onto an Undetermined capture fails, and (fix §13 #35) changes nothing.
            Assert.Equal(before, set.ToString());
            Assert.Empty(outbox);
            return true;
        }

        return true;
    }

    /// <summary>Checks every safety property after each step, remembering what must never go back.</summary>
    internal sealed class SafetyChecker
    {
        private readonly ReplicationSet _set;
        private Checkpoint _checkpoint;
        private int _maxSecondaries;

        /// <summary>The capture last sent ADD-P, while it is primary and the set has not reached Replicating.</summary>
        private CaptureId _freshPrimary = CaptureId.None;

        public SafetyChecker(ReplicationSet set)
        {
            _set = set;
            _checkpoint = set.Checkpoint;
            set.AssertInvariants();
            _maxSecondaries = Math.Max(1, CountRole(set, CaptureRole.Secondary));
        }

        public void AfterStep(Op op, List<Message> outbox)
        {
            var set = _set;
            set.AssertInvariants();
            string Context() => $"after {op}: {set}";

            var now = set.Checkpoint;
            var previous = _checkpoint;
            Check(now.CheckpointTs >= previous.CheckpointTs, () => $"checkpoint went back from {previous} {Context()}");
            Check(now.ResolvedTs >= previous.ResolvedTs, () => $"resolved went back from {previous} {Context()}");
            Check(now.LastSyncedTs >= previous.LastSyncedTs, () => $"last synced went back from {previous} {Context()}");
            _checkpoint = now;

            Check(CountRole(set, CaptureRole.Primary) <= 1, () => $"two primaries {Context()}");
            Check(set.Primary.IsNone || set.RoleOf(set.Primary) == CaptureRole.Primary, () => $"primary without role Primary {Context()}");

            // At most one secondary outside rebuilds: a rebuild may start with several, never more afterwards,
            // and once down to one it stays so.
            int secondaries = CountRole(set, CaptureRole.Secondary);
            int max = _maxSecondaries;
            Check(secondaries <= max, () => $"{secondaries} secondaries > {max} {Context()}");
            _maxSecondaries = Math.Max(1, Math.Min(_maxSecondaries, secondaries));

            CheckMessages(set, outbox, Context);
            CheckFreshPrimaryKept(set, outbox, Context);
        }

        /// <summary>A freshly promoted primary is never told to remove the span (§13 #13/#38).</summary>
        private void CheckFreshPrimaryKept(ReplicationSet set, List<Message> outbox, Func<string> context)
        {
            foreach (var message in outbox)
            {
                var fresh = _freshPrimary;
                if (message.DispatchTableRequest!.RemoveTable is not null)
                {
                    Check(fresh.IsNone || message.To != fresh, () => $"RM to the freshly promoted primary {fresh} {context()}");
                }
                else if (!message.DispatchTableRequest.AddTable!.IsSecondary)
                {
                    _freshPrimary = message.To;
                }
            }

            if (set.State == ReplicationSetState.Replicating || set.Primary != _freshPrimary)
            {
                _freshPrimary = CaptureId.None;
            }
        }

        private static void Check(bool condition, Func<string> message)
        {
            if (!condition)
            {
                Assert.Fail(message());
            }
        }

        private static void CheckMessages(ReplicationSet set, List<Message> outbox, Func<string> context)
        {
            for (int i = 0; i < outbox.Count; i++)
            {
                var message = outbox[i];
                Check(message.IsWellFormed && !message.To.IsNone, () => $"malformed {message} {context()}");
                for (int j = 0; j < i; j++)
                {
                    Check(outbox[j].To != message.To, () => $"two messages to {message.To} {context()}");
                }

                if (message.DispatchTableRequest!.AddTable is { } add)
                {
                    Assert.Equal(set.Span, add.Span);
                    Check(add.Checkpoint.CheckpointTs <= set.Checkpoint.CheckpointTs, () => $"stale checkpoint {context()}");
                    if (add.IsSecondary)
                    {
                        Check(set.RoleOf(message.To) == CaptureRole.Secondary, () => $"ADD-S to a non-secondary {context()}");
                    }
                    else
                    {
                        Check(message.To == set.Primary, () => $"ADD-P to a non-primary {context()}");
                    }
                }
                else
                {
                    Assert.Equal(set.Span, message.DispatchTableRequest.RemoveTable!.Span);
                }
            }
        }

        private static int CountRole(ReplicationSet set, CaptureRole wanted)
        {
            int count = 0;
            foreach (var (_, role) in set.Captures)
            {
                count += role == wanted ? 1 : 0;
            }

            return count;
        }
    }
}
