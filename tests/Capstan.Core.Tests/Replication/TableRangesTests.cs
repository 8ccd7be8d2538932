namespace Capstan.Core.Tests.Replication;

using Capstan.Core.Model;
using Capstan.Core.Replication;
using Capstan.Core.Spans;

public class TableRangesTests
{
    [Fact]
    public void UpdateTables_RangesMatchTableSpans_InListOrder()
    {
        var ranges = new TableRanges();
        ranges.UpdateTables([5, 1, 3]);
        Assert.Equal(3, ranges.Count);
        Assert.Equal([new TableId(5), new TableId(1), new TableId(3)], ranges.Tables);
        Assert.False(ranges.IsAscending);
        for (int index = 0; index < 3; index++)
        {
            var expected = TableSpans.TableRange(ranges.Tables[index]);
            Assert.Equal(expected, ranges.RangeOf(index));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => ranges.RangeOf(3));
    }

    [Fact]
    public void UpdateTables_DroppedTables_AreEvictedFromTheCache()
    {
        var ranges = new TableRanges();
        ranges.UpdateTables([1, 2, 3, 4]);
        Assert.Equal(4, ranges.CachedRangeCount);
        ranges.UpdateTables([2, 4, 6]);
        Assert.Equal(3, ranges.CachedRangeCount);
        Assert.True(ranges.IsAscending);
        Assert.Equal(TableSpans.TableRange(6), ranges.RangeOf(2));
        ranges.UpdateTables([]);
        Assert.Equal(0, ranges.Count);
        Assert.Equal(0, ranges.CachedRangeCount);
    }

    [Fact]
    public void UpdateTables_Duplicates_AreKeptAndCachedOnce()
    {
        var ranges = new TableRanges();
        ranges.UpdateTables([7, 7, 8]);
        Assert.Equal(3, ranges.Count);
        Assert.Equal(2, ranges.CachedRangeCount);
        Assert.False(ranges.IsAscending);
    }

    [Fact]
    public void UpdateTables_CopiesTheList()
    {
        var ranges = new TableRanges();
        var list = new List<TableId> { 1, 2 };
        ranges.UpdateTables(list);
        list.Add(3);
        Assert.Equal(2, ranges.Count);
        ranges.UpdateTables(list);
        Assert.Equal(3, ranges.Count);
    }
}
