namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using static ReplicationTestKit;

/// <summary>The acceptance scenarios of spec §10.1 (TiCDC's replication_set_test.go).</summary>
public class ReplicationSetScenarioTests
{
    // ---- §10.1 #1 rebuild -------------------------------------------------------------------

    [Fact(DisplayName = "Rebuild: no statuses → Absent, no roles, all five stages seeded with the checkpoint")]
    public void Rebuild_Empty_IsAbsent()
    {
        var set = Rebuild(T1, 0);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
        Assert.True(set.Primary.IsNone);
        foreach (var stage in StageNames.All)
        {
            Assert.Equal(Ck(0, 0), set.StageCheckpoint(stage));
        }

        set.AssertInvariants();
    }

    [Fact(DisplayName = "Rebuild: {1: Replicating ck1} at checkpoint 2 → Replicating on 1, checkpoint stays {2,2}, stages seeded with 2")]
    public void Rebuild_OneReplicating_DoesNotRegressCheckpoint()
    {
        var set = new ReplicationSet(T1, 2, [new("1", Status(T1, TableState.Replicating, checkpointTs: 1))]);
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Primary }, Roles(set));
        Assert.Equal(Ck(2, 2), set.Checkpoint);
        foreach (var stage in StageNames.All)
        {
            Assert.Equal(Ck(2, 2), set.StageCheckpoint(stage));
        }

        Assert.Equal(new Ts(2), set.PullerEgressResolvedTs);
        set.AssertInvariants();
    }

    [Fact(DisplayName = "Rebuild: {1: Preparing} → Prepare with secondary 1")]
    public void Rebuild_OnePreparing_IsPrepare()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Preparing));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary }, Roles(set));
        Assert.True(set.Primary.IsNone);
    }

    [Fact(DisplayName = "Rebuild: {1: Preparing ck1, 2: Replicating ck2} → Prepare, primary 2, secondary 1, checkpoint {2,2}")]
    public void Rebuild_PreparingAndReplicating_IsPrepareWithBoth()
    {
        var set = new ReplicationSet(T1, 0,
        [
            new("1", Status(T1, TableState.Preparing, checkpointTs: 1)),
            new("2", Status(T1, TableState.Replicating, checkpointTs: 2)),
        ]);
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary, ["2"] = CaptureRole.Primary }, Roles(set));
        Assert.Equal(Ck(2, 2), set.Checkpoint);
    }

    [Fact(DisplayName = "Rebuild: {1: Prepared, 2: Replicating} → Commit, primary 2, secondary 1")]
    public void Rebuild_PreparedAndReplicating_IsCommit()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared), ("2", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary, ["2"] = CaptureRole.Primary }, Roles(set));
    }

    [Fact(DisplayName = "Rebuild: {1: Prepared, 2: Stopping} → Commit, secondary 1, undetermined 2, no primary")]
    public void Rebuild_PreparedAndStopping_IsCommitWithUndetermined()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared), ("2", TableState.Stopping));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.True(set.Primary.IsNone);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary, ["2"] = CaptureRole.Undetermined }, Roles(set));
    }

    [Fact(DisplayName = "Rebuild: {1: Prepared, 2: Stopped} → Commit with secondary 1 only")]
    public void Rebuild_PreparedAndStopped_IsCommitWithSecondaryOnly()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared), ("2", TableState.Stopped));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary }, Roles(set));
    }

    [Fact(DisplayName = "Rebuild: {1: Stopping, 2: Stopping} → Removing, both undetermined")]
    public void Rebuild_TwoStopping_IsRemoving()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Stopping), ("2", TableState.Stopping));
        Assert.Equal(ReplicationSetState.Removing, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Undetermined, ["2"] = CaptureRole.Undetermined }, Roles(set));
    }

    [Fact(DisplayName = "Rebuild: {1: Replicating, 2: Replicating} → multiple-primary error")]
    public void Rebuild_TwoReplicating_Throws()
    {
        Assert.Throws<ReplicationSetMultiplePrimaryException>(() => Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Replicating)));
    }

    [Fact(DisplayName = "Rebuild: a status for another span → inconsistent error")]
    public void Rebuild_StatusForOtherSpan_Throws()
    {
        var other = Capstan.Core.Spans.TableSpans.WholeTable(2);
        Assert.Throws<ReplicationSetInconsistentException>(() => new ReplicationSet(T1, 0, [new("1", Status(other, TableState.Replicating))]));
    }

    // ---- §10.1 #2 poll over every permutation ------------------------------------------------

    [Fact(DisplayName = "Poll: every pair of rebuilt states × every permutation of the 7 reports from '1' → well-formed output, invariants hold")]
    public void Poll_EveryPermutation_EmitsAtMostOneMessagePerRecipient()
    {
        var states = Enum.GetValues<TableState>();
        Assert.Equal(7, states.Length);
        var permutations = Permutations(states).ToList();
        var pairs = states.SelectMany(first => states.Select(second => (first, second)))
            .Where(pair => !(pair.first == TableState.Replicating && pair.second == TableState.Replicating))
            .ToList();
        Assert.Equal(48, pairs.Count);

        // The pairs are independent: run them in parallel (each walks 5,040 permutations × 7 polls).
        Parallel.ForEach(pairs, pair =>
        {
            var (first, second) = pair;
            var set = Rebuild(T1, 0, ("1", first), ("2", second));
            var outbox = new List<Message>();
            foreach (var permutation in permutations)
            {
                foreach (var state in permutation)
                {
                    string? failure = PollOnce(set, state, outbox);
                    if (failure is not null)
                    {
                        Assert.Fail($"rebuilt {{1: {first}, 2: {second}}}, sequence [{string.Join(", ", permutation)}], at {state}: {failure}; {set}");
                    }
                }
            }
        });
    }

    /// <summary>Returns a failure description, or null (kept cheap: 1.7 million polls).</summary>
    private static string? PollOnce(ReplicationSet set, TableState state, List<Message> outbox)
    {
        int secondariesBefore = 0;
        foreach (var (_, role) in set.Captures)
        {
            secondariesBefore += role == CaptureRole.Secondary ? 1 : 0;
        }

        outbox.Clear();
        try
        {
            set.Poll(Status(T1, state), "1", outbox);
        }
        catch (ReplicationSetInconsistentException)
        {
            set.AssertInvariants();
            return null; // errors are allowed outcomes here, as in TiCDC's test
        }

        set.AssertInvariants();

        // TiCDC: at most one message. Capstan also dismisses extra rebuilt secondaries at promotion (§13 #13).
        int allowed = 1 + Math.Max(0, secondariesBefore - 1);
        if (outbox.Count > allowed)
        {
            return $"{outbox.Count} messages > {allowed}";
        }

        for (int i = 0; i < outbox.Count; i++)
        {
            if (!outbox[i].IsWellFormed)
            {
                return $"malformed {outbox[i]}";
            }

            for (int j = 0; j < i; j++)
            {
                if (outbox[j].To == outbox[i].To)
                {
                    return $"two messages to {outbox[i].To}";
                }
            }
        }

        return null;
    }

    private static IEnumerable<TableState[]> Permutations(TableState[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (int i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, index) => index != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }

    // ---- §10.1 #3 ----------------------------------------------------------------------------

    [Fact(DisplayName = "Poll: reports from an unknown capture are ignored (no message, no error)")]
    public void Poll_UnknownCapture_IsIgnored()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating));
        Assert.Empty(set.Report("unknown", TableState.Replicating));
        Assert.Empty(set.Report("unknown", TableState.Absent));
        Assert.Empty(set.Report("unknown", TableState.Replicating, 100, 100));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(Ck(0, 0), set.Checkpoint);
    }

    // ---- §10.1 #4 add ------------------------------------------------------------------------

    [Fact(DisplayName = "Add: Absent → Prepare (ADD-S) → Commit (ADD-P, promoted) → Replicating, with resends on lost requests")]
    public void Add_HappyPathWithResends()
    {
        var set = new ReplicationSet(T1, 2);
        var messages = set.Add("1");
        AssertAdd(Assert.Single(messages), "1", T1, isSecondary: true, Ck(2, 2));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(CaptureRole.Secondary, set.RoleOf("1"));

        Assert.Empty(set.Add("1")); // a second add is a no-op

        // The prepare request was lost: Absent → resend.
        AssertAdd(Assert.Single(set.Report("1", TableState.Absent)), "1", T1, isSecondary: true, Ck(2, 2));
        Assert.Equal(ReplicationSetState.Prepare, set.State);

        Assert.Empty(set.Report("1", TableState.Preparing));
        Assert.Equal(ReplicationSetState.Prepare, set.State);

        AssertAdd(Assert.Single(set.Report("1", TableState.Prepared)), "1", T1, isSecondary: false, Ck(2, 2));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
        Assert.True(set.Secondary.IsNone);

        // The commit request was lost: Prepared again → resend.
        AssertAdd(Assert.Single(set.Report("1", TableState.Prepared)), "1", T1, isSecondary: false, Ck(2, 2));
        Assert.Equal(ReplicationSetState.Commit, set.State);

        Assert.Empty(set.Report("1", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);

        Assert.Empty(set.Report("1", TableState.Replicating, 3, 4));
        Assert.Equal(Ck(3, 4), set.Checkpoint);
        set.AssertInvariants();
    }

    // ---- §10.1 #5 remove ---------------------------------------------------------------------

    [Fact(DisplayName = "Remove: ignored unless Replicating; Replicating → Removing (RM primary) → Stopped or Absent → removed")]
    public void Remove_HappyPath()
    {
        var absent = new ReplicationSet(T1, 0);
        Assert.Empty(absent.Remove());
        Assert.False(absent.HasRemoved);
        Assert.Equal(ReplicationSetState.Absent, absent.State);

        foreach (var final in new[] { TableState.Stopped, TableState.Absent })
        {
            var set = Replicating("1");
            AssertRemove(Assert.Single(set.Remove()), "1", T1);
            Assert.Equal(ReplicationSetState.Removing, set.State);
            Assert.False(set.HasRemoved);

            Assert.Empty(set.Remove()); // in progress: ignored
            Assert.Empty(set.Report("1", TableState.Stopping));
            Assert.Equal(ReplicationSetState.Removing, set.State);
            Assert.False(set.HasRemoved);

            Assert.Empty(set.Report("1", final));
            Assert.Equal(ReplicationSetState.Removing, set.State);
            Assert.True(set.HasRemoved, $"after {final}");
            set.AssertInvariants();
        }
    }

    [Fact(DisplayName = "Remove: a holder still reporting Replicating in Removing is sent RM again")]
    public void Remove_ReplicatingReport_ResendsRemove()
    {
        var set = Replicating("1");
        set.Remove();
        AssertRemove(Assert.Single(set.Report("1", TableState.Replicating, 9, 9)), "1", T1);
        Assert.Equal(Ck(0, 0), set.Checkpoint); // Removing never updates the checkpoint
    }

    // ---- §10.1 #6 move -----------------------------------------------------------------------

    /// <summary>Move 1 → 2 up to the source reporting Stopping (3,3) in Commit.</summary>
    private static ReplicationSet MoveUntilSourceStopping()
    {
        var set = Replicating("1");
        set.Move("2");
        set.Report("1", TableState.Replicating, 1, 1);
        set.Report("2", TableState.Prepared);
        set.Report("1", TableState.Replicating, 2, 3);
        set.Report("1", TableState.Stopping, 3, 3);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        return set;
    }

    [Fact(DisplayName = "Move: Replicating → Prepare (ADD-S dest) → Commit (RM source, resent) → source Stopped → dest promoted (ADD-P with source's final checkpoint) → Replicating")]
    public void Move_HappyPath()
    {
        var set = new ReplicationSet(T1, 0);
        set.Add("1");
        Assert.Empty(set.Move("2")); // Prepare: ignored
        Assert.False(set.HasCapture("2"));

        set.Report("1", TableState.Prepared);
        set.Report("1", TableState.Replicating);
        Assert.Equal(ReplicationSetState.Replicating, set.State);

        AssertAdd(Assert.Single(set.Move("2")), "2", T1, isSecondary: true, Ck(0, 0));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(CaptureRole.Secondary, set.RoleOf("2"));
        Assert.Equal(new CaptureId("1"), set.Primary);

        Assert.Empty(set.Add("2"));
        Assert.Empty(set.Report("1", TableState.Replicating, 1, 1));
        Assert.Equal(Ck(1, 1), set.Checkpoint);

        AssertAdd(Assert.Single(set.Report("2", TableState.Absent)), "2", T1, isSecondary: true, Ck(1, 1));
        Assert.Equal(ReplicationSetState.Prepare, set.State);

        AssertRemove(Assert.Single(set.Report("2", TableState.Prepared)), "1", T1);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
        Assert.Equal(CaptureRole.Secondary, set.RoleOf("2"));

        AssertRemove(Assert.Single(set.Report("1", TableState.Replicating, 2, 3)), "1", T1);
        Assert.Equal(Ck(2, 3), set.Checkpoint);

        Assert.Empty(set.Report("1", TableState.Stopping, 3, 3));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(Ck(3, 3), set.Checkpoint);

        AssertAdd(Assert.Single(set.Report("1", TableState.Stopped, 3, 4)), "2", T1, isSecondary: false, Ck(3, 4));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.True(set.Secondary.IsNone);
        Assert.Equal(Ck(3, 4), set.Checkpoint);

        Assert.Empty(set.Report("2", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        set.AssertInvariants();
    }

    [Fact(DisplayName = "Move: the source's Stopped report is lost and it reports Absent → the same promotion, ADD-P carrying (3,3)")]
    public void Move_SourceReportsAbsent_PromotesDestination()
    {
        var set = MoveUntilSourceStopping();
        AssertAdd(Assert.Single(set.Report("1", TableState.Absent)), "2", T1, isSecondary: false, Ck(3, 3));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.True(set.Secondary.IsNone);
        Assert.Equal(Ck(3, 3), set.Checkpoint);
    }

    // ---- §10.1 #7 capture shutdown -----------------------------------------------------------

    [Fact(DisplayName = "Shutdown: the secondary dies during add-Prepare → Absent, no roles")]
    public void Shutdown_SecondaryDuringAddPrepare_GoesAbsent()
    {
        var set = new ReplicationSet(T1, 0);
        set.Add("1");
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    [Fact(DisplayName = "Shutdown: the promoted capture dies during add-Commit → Absent")]
    public void Shutdown_PromotedDuringAddCommit_GoesAbsent()
    {
        var set = new ReplicationSet(T1, 0);
        set.Add("1");
        set.Report("1", TableState.Prepared);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    [Fact(DisplayName = "Shutdown: the primary dies while Replicating → Absent")]
    public void Shutdown_PrimaryWhileReplicating_GoesAbsent()
    {
        var set = Replicating("1");
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.True(set.Primary.IsNone);
    }

    [Fact(DisplayName = "Shutdown: move, the primary dies during Prepare → Prepare with only the destination; then it dies too → Absent")]
    public void Shutdown_MovePrimaryDuringPrepare_KeepsSecondary()
    {
        var set = Replicating("1");
        set.Move("2");
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.True(set.Primary.IsNone);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["2"] = CaptureRole.Secondary }, Roles(set));

        (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    [Fact(DisplayName = "Shutdown: move, the secondary dies during Prepare → Replicating on the original primary")]
    public void Shutdown_MoveSecondaryDuringPrepare_BackToReplicating()
    {
        var set = Replicating("1");
        set.Move("2");
        var (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Primary }, Roles(set));
    }

    [Fact(DisplayName = "Shutdown: move, the original primary dies during Commit → destination promoted with ADD-P, still Commit; then it dies → Absent")]
    public void Shutdown_MovePrimaryDuringCommit_PromotesDestination()
    {
        var set = Replicating("1");
        set.Move("2");
        set.Report("2", TableState.Prepared);
        Assert.Equal(ReplicationSetState.Commit, set.State);

        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        AssertAdd(Assert.Single(messages), "2", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.True(set.Secondary.IsNone);

        (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    private static ReplicationSet MoveCommitThenSecondaryDies()
    {
        var set = Replicating("1");
        set.Move("2");
        set.Report("2", TableState.Prepared);
        var (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Primary }, Roles(set));
        return set;
    }

    [Fact(DisplayName = "Shutdown: move, the secondary dies during Commit → Commit on the primary; (a) primary Replicating → Replicating")]
    public void Shutdown_MoveSecondaryDuringCommit_PrimaryReplicating()
    {
        var set = MoveCommitThenSecondaryDies();
        Assert.Empty(set.Report("1", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
    }

    [Fact(DisplayName = "Shutdown: move, the secondary dies during Commit; (b) primary Stopped → Absent")]
    public void Shutdown_MoveSecondaryDuringCommit_PrimaryStopped()
    {
        var set = MoveCommitThenSecondaryDies();
        Assert.Empty(set.Report("1", TableState.Stopped));
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    [Fact(DisplayName = "Shutdown: move, the secondary dies during Commit; (c) primary Absent → Prepare with it re-added as secondary + ADD-S")]
    public void Shutdown_MoveSecondaryDuringCommit_PrimaryAbsent()
    {
        var set = MoveCommitThenSecondaryDies();
        AssertAdd(Assert.Single(set.Report("1", TableState.Absent)), "1", T1, isSecondary: true, set.Checkpoint);
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Secondary }, Roles(set));
        Assert.True(set.Primary.IsNone);
    }

    [Fact(DisplayName = "Shutdown: move, original primary Stopped → destination promoted (ADD-P); the new primary dies during Commit → Absent")]
    public void Shutdown_NewPrimaryDuringCommit_GoesAbsent()
    {
        var set = Replicating("1");
        set.Move("2");
        set.Report("2", TableState.Prepared);
        AssertAdd(Assert.Single(set.Report("1", TableState.Stopped)), "2", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);

        var (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
    }

    [Fact(DisplayName = "Shutdown: an unknown capture dies → not affected, set unchanged")]
    public void Shutdown_UnknownCapture_NotAffected()
    {
        var set = Replicating("1");
        string before = set.ToString();
        var (messages, affected) = set.Shutdown("unknown");
        Assert.False(affected);
        Assert.Empty(messages);
        Assert.Equal(before, set.ToString());
    }

    [Fact(DisplayName = "Shutdown: while Removing, the dying holder leaves the role map (the set is removed)")]
    public void Shutdown_WhileRemoving_RemovesHolder()
    {
        var set = Replicating("1");
        set.Remove();
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.True(set.HasRemoved);
    }

    // ---- §10.1 #8, #9 ------------------------------------------------------------------------

    [Fact(DisplayName = "Shutdown: rebuilt Commit with one Prepared secondary; it dies → Absent, no messages")]
    public void Shutdown_RebuiltCommit_GoesAbsent()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));
    }

    [Fact(DisplayName = "Move: after promotion a late heartbeat from the source reporting Absent is ignored; checkpoint stays (3,4)")]
    public void Move_LateSourceHeartbeat_IsIgnored()
    {
        var set = MoveUntilSourceStopping();
        AssertAdd(Assert.Single(set.Report("1", TableState.Stopped, 3, 4)), "2", T1, isSecondary: false, Ck(3, 4));
        Assert.Empty(set.Report("1", TableState.Absent));
        Assert.Equal(Ck(3, 4), set.Checkpoint);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Empty(set.Report("2", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("2"), set.Primary);
    }

    // ---- §10.1 #10, #11 ----------------------------------------------------------------------

    [Fact(DisplayName = "Display: the state is shown by name")]
    public void ToString_ShowsStateName()
    {
        var set = Replicating("1");
        Assert.Equal("Replicating", set.State.ToString());
        Assert.Contains("state Replicating", set.ToString());
        Assert.Contains("1:Primary", set.ToString());
    }

    [Fact(DisplayName = "Move: to the current primary → ignored, stays Replicating")]
    public void Move_ToCurrentPrimary_IsIgnored()
    {
        var set = Replicating("1");
        Assert.Empty(set.Move("1"));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Primary }, Roles(set));
    }

    // ---- §10.1 #12, #13 ----------------------------------------------------------------------

    private static ReplicationSet RebuiltCommitWithStopping()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared), ("2", TableState.Stopping));
        Assert.Empty(set.Report("1", TableState.Prepared)); // no promotion while 2 may still write
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(CaptureRole.Secondary, set.RoleOf("1"));
        Assert.Empty(set.Report("2", TableState.Stopping));
        Assert.Equal(CaptureRole.Undetermined, set.RoleOf("2"));
        return set;
    }

    [Theory(DisplayName = "Commit restart: rebuilt {1: Prepared, 2: Stopping}; 2 stops (Stopped or Absent) → its role goes; then 1 Prepared → promoted with ADD-P")]
    [InlineData(TableState.Stopped)]
    [InlineData(TableState.Absent)]
    public void CommitRestart_PromotesOnceUndeterminedStops(TableState stopped)
    {
        var set = RebuiltCommitWithStopping();
        Assert.Empty(set.Report("2", stopped));
        Assert.False(set.HasCapture("2"));
        Assert.Equal(ReplicationSetState.Commit, set.State);

        AssertAdd(Assert.Single(set.Report("1", TableState.Prepared)), "1", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(ReplicationSetState.Commit, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
        set.AssertInvariants();
    }

    [Fact(DisplayName = "Remove restart: rebuilt Removing {1, 2 Stopping}; 2 Stopped leaves, 1 Absent → removed")]
    public void RemoveRestart_RemovedWhenAllStop()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Stopping), ("2", TableState.Stopping));
        Assert.Empty(set.Report("2", TableState.Stopping));
        Assert.Equal(ReplicationSetState.Removing, set.State);

        Assert.Empty(set.Report("2", TableState.Stopped));
        Assert.False(set.HasCapture("2"));
        Assert.False(set.HasRemoved);

        Assert.Empty(set.Report("1", TableState.Absent));
        Assert.True(set.HasRemoved);
    }

    // ---- §10.1 #18 ---------------------------------------------------------------------------

    [Fact(DisplayName = "Checkpoint: a report with resolved < checkpoint does not fail; a zero resolved counts as the checkpoint")]
    public void UpdateCheckpoint_ResolvedBelowCheckpoint_IsTolerated()
    {
        var set = Replicating("1");
        Assert.Empty(set.Report("1", TableState.Replicating, 10, 5));
        Assert.Equal(Ck(10, 5), set.Checkpoint);
        Assert.Empty(set.Report("1", TableState.Replicating, 12, 0));
        Assert.Equal(Ck(12, 12), set.Checkpoint);
        Assert.Empty(set.Report("1", TableState.Replicating, 11, 11, 7));
        Assert.Equal(Ck(12, 12, 7), set.Checkpoint); // never regresses
    }

    [Fact(DisplayName = "Stats: non-empty stats replace the old ones (and the seed); empty stats keep them")]
    public void UpdateStats_ReplacesOnlyWhenNonEmpty()
    {
        var set = Replicating("1", checkpointTs: 5);
        Assert.Equal(new Ts(5), set.PullerEgressResolvedTs);
        var stats = new Stats { RegionCount = 3, StageCheckpoints = new Dictionary<string, Checkpoint> { [StageNames.PullerEgress] = Ck(6, 9) } };
        set.Poll(Status(T1, TableState.Replicating, 6, 7, stats: stats), "1", []);
        Assert.Same(stats, set.Stats);
        Assert.Equal(new Ts(9), set.PullerEgressResolvedTs);
        Assert.Null(set.StageCheckpoint(StageNames.Sink)); // the seed is gone

        set.Poll(Status(T1, TableState.Replicating, 7, 8, stats: new Stats()), "1", []);
        Assert.Same(stats, set.Stats);

        var noPuller = new Stats { RegionCount = 4 };
        set.Poll(Status(T1, TableState.Replicating, 7, 8, stats: noPuller), "1", []);
        Assert.False(set.TryGetPullerEgressResolvedTs(out _));
    }
}
