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
    public void UpdateTables_NewList_ReplacesTablesAndRanges()
    {
        var ranges = new TableRanges();
        ranges.UpdateTables([1, 2, 3, 4]);
        ranges.UpdateTables([2, 4, 6]);
        Assert.Equal(3, ranges.Count);
        Assert.True(ranges.IsAscending);
        Assert.Equal(new TableId(6), ranges[2]);
        Assert.Equal(TableSpans.TableRange(6), ranges.RangeOf(2));
        ranges.UpdateTables([]);
        Assert.Equal(0, ranges.Count);
    }

    [Fact]
    public void UpdateTables_Duplicates_AreKept()
    {
        var ranges = new TableRanges();
        ranges.UpdateTables([7, 7, 8]);
        Assert.Equal(3, ranges.Count);
        Assert.False(ranges.IsAscending);
        Assert.Equal(ranges.RangeOf(0), ranges.RangeOf(1));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(10_000L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(-1L)]
    public void WriteTableKeys_EqualTheAllocatedKeys(long table)
    {
        Span<byte> start = stackalloc byte[TableSpans.TableKeyLength];
        Span<byte> end = stackalloc byte[TableSpans.TableKeyLength];
        TableSpans.WriteTableStartKey(table, start);
        TableSpans.WriteTableEndKey(table, end);
        Assert.Equal(TableSpans.TableStartKey(table), start.ToArray());
        Assert.Equal(TableSpans.TableEndKey(table), end.ToArray());
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
