namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using static ReplicationTestKit;

/// <summary>
/// Behaviour where Capstan deliberately differs from TiCDC (spec §13). Each test fails on the Go
/// behaviour described in its name.
/// </summary>
public class ReplicationSetGoBugTests
{
    // ---- §13 #12 / #36: lingering Undetermined roles ------------------------------------------

    [Fact(DisplayName = "GoBug12_36: rebuilt {1: Replicating, 2: Stopping}; primary stops → Absent without 2's Undetermined role; adding on 2 works")]
    public void GoBug12_36_AbsentClearsUndetermined_LaterAddOnThatCaptureWorks()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Stopping));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(CaptureRole.Undetermined, set.RoleOf("2"));

        Assert.Empty(set.Report("1", TableState.Stopped));
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set)); // TiCDC kept {2: Undetermined}
        set.AssertInvariants();

        // TiCDC: "inconsistent" (2 is Undetermined, cannot become Secondary).
        AssertAdd(Assert.Single(set.Add("2")), "2", T1, isSecondary: true, set.Checkpoint);
        Assert.Equal(ReplicationSetState.Prepare, set.State);
    }

    [Fact(DisplayName = "GoBug36: rebuilt {1: Prepared, 2: Stopping}; the secondary dies → Absent; 2 reporting Absent afterwards is no error")]
    public void GoBug36_UndeterminedReportingAbsentAfterAbsent_IsIgnored()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Prepared), ("2", TableState.Stopping));
        set.Shutdown("1");
        Assert.Equal(ReplicationSetState.Absent, set.State);
        Assert.Empty(Roles(set));

        // TiCDC: Absent + Absent from a capture with a role → setCapture(Secondary) on an Undetermined → error.
        Assert.Empty(set.Report("2", TableState.Absent));
        Assert.Equal(ReplicationSetState.Absent, set.State);
    }

    [Theory(DisplayName = "GoBug12: Replicating with a lingering Undetermined capture; it reports Stopped/Absent → it leaves the role map")]
    [InlineData(TableState.Stopped)]
    [InlineData(TableState.Absent)]
    public void GoBug12_UndeterminedStopsWhileReplicating_RoleCleared(TableState reported)
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Stopping));
        Assert.Empty(set.Report("2", TableState.Stopping));
        Assert.Equal(CaptureRole.Undetermined, set.RoleOf("2"));

        Assert.Empty(set.Report("2", reported));
        Assert.False(set.HasCapture("2")); // TiCDC ignored the report and kept the role forever
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        Assert.Equal(new CaptureId("1"), set.Primary);
    }

    [Fact(DisplayName = "GoBug12: Replicating with a lingering Undetermined capture; that capture dies → affected, role cleared")]
    public void GoBug12_UndeterminedDiesWhileReplicating_RoleCleared()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Stopping));
        var (messages, affected) = set.Shutdown("2");
        Assert.True(affected);
        Assert.Empty(messages);
        Assert.False(set.HasCapture("2"));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
    }

    [Fact(DisplayName = "GoBug12 (extension): rebuilt {1: Preparing, 2: Stopping}; 2 dies during Prepare → 1's promotion is not blocked forever")]
    public void GoBug12_UndeterminedDiesDuringPrepare_PromotionNotBlocked()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Preparing), ("2", TableState.Stopping));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        set.Shutdown("2"); // TiCDC ignored this and then waited for 2 in Commit, which a dead capture never ends
        Assert.False(set.HasCapture("2"));

        AssertAdd(Assert.Single(set.Report("1", TableState.Prepared)), "1", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(new CaptureId("1"), set.Primary);
    }

    // ---- §13 #35: a failed move changes nothing --------------------------------------------------

    [Fact(DisplayName = "GoBug35: move onto a capture that is Undetermined → error, and the set is left Replicating, unchanged")]
    public void GoBug35_MoveOntoUndetermined_ChangesNothing()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Stopping));
        string before = set.ToString();
        var outbox = new List<Message>();
        Assert.Throws<ReplicationSetInconsistentException>(() => set.HandleMoveTable("2", outbox));
        Assert.Empty(outbox);
        Assert.Equal(ReplicationSetState.Replicating, set.State); // TiCDC: switched to Prepare before failing
        Assert.Equal(before, set.ToString());
        set.AssertInvariants();
    }

    // ---- §13 #13 / #38 / #40: several secondaries after a rebuild ---------------------------------

    [Fact(DisplayName = "GoBug13_38: rebuilt {1: Preparing, 2: Prepared}; 2 Prepared → 2 promoted WITH ADD-P, 1 told to remove; 1's Prepared never removes 2")]
    public void GoBug13_38_PromotionSendsCommit_AndExtraSecondaryIsDismissed()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Preparing), ("2", TableState.Prepared));
        Assert.Equal(ReplicationSetState.Commit, set.State);

        var messages = set.Report("2", TableState.Prepared);
        Assert.Equal(2, messages.Count);
        AssertRemove(messages[0], "1", T1);
        AssertAdd(messages[1], "2", T1, isSecondary: false, set.Checkpoint); // TiCDC sent nothing to 2
        Assert.Equal(new CaptureId("2"), set.Primary);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["2"] = CaptureRole.Primary }, Roles(set));

        // TiCDC: RM(2), removing the span from the new primary.
        Assert.Empty(set.Report("1", TableState.Prepared));
        Assert.Equal(new CaptureId("2"), set.Primary);

        Assert.Empty(set.Report("2", TableState.Replicating));
        Assert.Equal(ReplicationSetState.Replicating, set.State);
        set.AssertInvariants();
    }

    [Fact(DisplayName = "GoBug40: rebuilt {1: Replicating, 2: Preparing, 3: Prepared}; primary stops → the Prepared secondary 3 is promoted (not 2), 2 is dismissed")]
    public void GoBug40_PrimaryStops_PreparedSecondaryIsPromoted()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Preparing), ("3", TableState.Prepared));
        Assert.Equal(ReplicationSetState.Commit, set.State);

        var messages = set.Report("1", TableState.Stopped, 4, 5);
        Assert.Equal(2, messages.Count);
        AssertRemove(messages[0], "2", T1);
        AssertAdd(messages[1], "3", T1, isSecondary: false, Ck(4, 5));
        Assert.Equal(new Dictionary<string, CaptureRole> { ["3"] = CaptureRole.Primary }, Roles(set));
        Assert.Equal(ReplicationSetState.Commit, set.State);
        set.AssertInvariants();
    }

    [Fact(DisplayName = "GoBug40: rebuilt {1: Replicating, 2: Preparing, 3: Preparing}; 3 gets Prepared, then the primary dies → 3 is promoted, 2 dismissed")]
    public void GoBug40_PrimaryDies_SecondaryThatReportedPreparedIsPromoted()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Preparing), ("3", TableState.Preparing));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        AssertRemove(Assert.Single(set.Report("3", TableState.Prepared)), "1", T1);
        Assert.Equal(ReplicationSetState.Commit, set.State);

        var (messages, affected) = set.Shutdown("1");
        Assert.True(affected);
        Assert.Equal(2, messages.Count);
        AssertRemove(messages[0], "2", T1);
        AssertAdd(messages[1], "3", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(new CaptureId("3"), set.Primary);
    }

    [Fact(DisplayName = "GoBug40: no secondary left that reported Prepared → the smallest capture id is promoted, the others dismissed in id order")]
    public void GoBug40_NonePrepared_SmallestIdIsPromoted()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Prepared), ("5", TableState.Preparing), ("4", TableState.Preparing));
        Assert.Empty(set.Report("2", TableState.Stopped)); // the only Prepared secondary leaves
        Assert.Equal(ReplicationSetState.Commit, set.State);

        var messages = set.Report("1", TableState.Stopped);
        Assert.Equal(2, messages.Count);
        AssertRemove(messages[0], "5", T1);
        AssertAdd(messages[1], "4", T1, isSecondary: false, set.Checkpoint);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["4"] = CaptureRole.Primary }, Roles(set));
    }

    [Fact(DisplayName = "GoBug13: rebuilt {1: Preparing, 2: Preparing}; one secondary stops → still Prepare with the other (TiCDC went Absent holding a secondary)")]
    public void GoBug13_OneOfTwoSecondariesStops_StaysPrepare()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Preparing), ("2", TableState.Preparing));
        Assert.Empty(set.Report("1", TableState.Stopped));
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["2"] = CaptureRole.Secondary }, Roles(set));
        set.AssertInvariants();

        AssertAdd(Assert.Single(set.Report("2", TableState.Prepared)), "2", T1, isSecondary: false, set.Checkpoint);
    }

    [Fact(DisplayName = "GoBug13: rebuilt {1: Replicating, 2: Preparing, 3: Preparing}; one secondary dies → still Prepare (TiCDC went Replicating holding a secondary)")]
    public void GoBug13_OneOfTwoSecondariesDiesDuringMove_StaysPrepare()
    {
        var set = Rebuild(T1, 0, ("1", TableState.Replicating), ("2", TableState.Preparing), ("3", TableState.Preparing));
        set.Shutdown("2");
        Assert.Equal(ReplicationSetState.Prepare, set.State);
        Assert.Equal(new Dictionary<string, CaptureRole> { ["1"] = CaptureRole.Primary, ["3"] = CaptureRole.Secondary }, Roles(set));
        set.AssertInvariants();
    }
}
