namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Replication;

public class RoleMapTests
{
    [Fact(DisplayName = "RoleMap: the primary is the capture holding role Primary, wherever it sits (inline or overflow)")]
    public void Primary_IsTheHolderOfRolePrimary()
    {
        var map = default(RoleMap);
        Assert.Equal(CaptureId.None, map.Primary);

        map.Set("a", CaptureRole.Secondary);
        map.Set("b", CaptureRole.Secondary);
        map.Set("c", CaptureRole.Primary); // third entry: overflow
        Assert.Equal(new CaptureId("c"), map.Primary);
        Assert.False(map.IsSoleInlinePrimary("c"));

        map.Remove("a"); // compaction moves "c" inline, behind "b"
        Assert.Equal(new CaptureId("c"), map.Primary);
        Assert.False(map.IsSoleInlinePrimary("c")); // second slot, not first

        map.Remove("b");
        Assert.True(map.IsSoleInlinePrimary("c"));
        Assert.False(map.IsSoleInlinePrimary("b"));
    }

    [Fact(DisplayName = "RoleMap: a prepared mark needs a role, survives the same role set again, and goes when the role changes or the capture leaves")]
    public void PreparedMark_GoesWithTheRole()
    {
        var map = default(RoleMap);
        Assert.False(map.SetPrepared("a", prepared: true)); // no role: nothing to mark
        Assert.False(map.IsPrepared("a"));

        map.Set("a", CaptureRole.Secondary);
        Assert.True(map.SetPrepared("a", prepared: true));
        map.Set("a", CaptureRole.Secondary);
        Assert.True(map.IsPrepared("a"));
        Assert.True(map.TryGet("a", out var role) && role == CaptureRole.Secondary);

        map.Set("a", CaptureRole.Primary);
        Assert.False(map.IsPrepared("a"));

        map.Set("b", CaptureRole.Secondary);
        map.SetPrepared("b", prepared: true);
        map.Remove("b");
        map.Set("b", CaptureRole.Secondary);
        Assert.False(map.IsPrepared("b"));
        Assert.Equal([("a", CaptureRole.Primary), ("b", CaptureRole.Secondary)], Entries(map));
    }

    private static List<(string, CaptureRole)> Entries(RoleMap map)
    {
        var entries = new List<(string, CaptureRole)>();
        foreach (var (capture, role) in map)
        {
            entries.Add((capture.Value, role));
        }

        return entries;
    }
}
