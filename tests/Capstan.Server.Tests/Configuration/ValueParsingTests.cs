namespace Capstan.Server.Tests.Configuration;

using Capstan.Core.Model;
using Capstan.Server.Configuration;

public sealed class ValueParsingTests
{
    [Theory(DisplayName = "Durations: a number with a unit, or a .NET time span")]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("2min", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData(" 3 s ", 3_000)]
    [InlineData("00:00:10", 10_000)]
    public void Durations_TryParse_Accepts(string text, double milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory(DisplayName = "Durations: bare numbers, unknown units, negatives and blanks are refused")]
    [InlineData("10")]
    [InlineData("10 parsecs")]
    [InlineData("-1s")]
    [InlineData("-00:00:01")]
    [InlineData("")]
    [InlineData("s")]
    public void Durations_TryParse_Refuses(string text) => Assert.False(Durations.TryParse(text, out _));

    [Theory(DisplayName = "Durations: Format writes what TryParse reads")]
    [InlineData(10_000, "10s")]
    [InlineData(50, "50ms")]
    [InlineData(1_500, "1500ms")]
    public void Durations_Format_RoundTrips(double milliseconds, string expected)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);
        Assert.Equal(expected, Durations.Format(value));
        Assert.True(Durations.TryParse(Durations.Format(value), out var back));
        Assert.Equal(value, back);
    }

    [Theory(DisplayName = "Listen addresses: IPs, localhost, any-address, IPv6 in brackets, port 0")]
    [InlineData("127.0.0.1:8300", "127.0.0.1", 8300)]
    [InlineData("localhost:0", "127.0.0.1", 0)]
    [InlineData("0.0.0.0:1", "0.0.0.0", 1)]
    [InlineData("[::1]:9", "::1", 9)]
    public void Endpoints_ParseListen(string text, string address, int port)
    {
        var endpoint = Endpoints.ParseListen(text, "addr");
        Assert.Equal((address, port), (endpoint.Address.ToString(), endpoint.Port));
    }

    [Fact(DisplayName = "Advertised addresses may be host names; IPv6 hosts are bracketed when joined")]
    public void Endpoints_Advertised()
    {
        Assert.Equal(("capture-1.internal", 8300), Endpoints.ParseAdvertised("capture-1.internal:8300", "advertise-addr"));
        Assert.Equal("[::1]:5", Endpoints.Join("::1", 5));
        Assert.Throws<SettingsException>(() => Endpoints.ParseAdvertised(":8300", "advertise-addr"));
        Assert.Throws<SettingsException>(() => Endpoints.ParseListen("127.0.0.1:70000", "addr"));
    }

    [Fact(DisplayName = "Capture ids: letters and digits in dash-separated groups, at most 128; generated ids are valid UUIDs")]
    public void CaptureIds_Rule()
    {
        Assert.True(CaptureIds.IsValid("c1"));
        Assert.True(CaptureIds.IsValid("capture-1-a"));
        Assert.False(CaptureIds.IsValid("-c1"));
        Assert.False(CaptureIds.IsValid("c1-"));
        Assert.False(CaptureIds.IsValid("c 1"));
        Assert.False(CaptureIds.IsValid(new string('a', 129)));
        var generated = CaptureIds.Generate();
        Assert.True(CaptureIds.IsValid(generated));
        Assert.True(Guid.TryParse(generated, out _));
    }

    [Fact(DisplayName = "Table lists: ids and inclusive ranges, sorted, duplicates merged")]
    public void TableLists_Parse()
    {
        Assert.Equal([1L, 2, 3, 4, 5, 9], TableLists.Parse("5, 1-3 ,4,3,9").Select(t => t.Value));
        Assert.Equal(1000, TableLists.Parse("1-1000").Count);
        Assert.Equal("1-5,9", TableLists.Format(TableLists.Parse("5,1-3,4,9")));
        Assert.Equal("7", TableLists.Format([new TableId(7), new TableId(7)]));
    }

    [Theory(DisplayName = "Table lists: blanks, non-numbers, zero, negatives, reversed and huge ranges are refused with a reason")]
    [InlineData("", "no tables")]
    [InlineData("a", "positive integers")]
    [InlineData("0", "positive integers")]
    [InlineData("-3", "positive integers")]
    [InlineData("1,,2", "empty entry")]
    [InlineData(",", "empty entry")]
    [InlineData("1-", "positive integers")]
    [InlineData("5-1", "ends before it starts")]
    [InlineData("1-2000000", "more than")]
    public void TableLists_Parse_Refuses(string text, string reason) =>
        Assert.Contains(reason, Assert.Throws<FormatException>(() => TableLists.Parse(text)).Message, StringComparison.Ordinal);
}
