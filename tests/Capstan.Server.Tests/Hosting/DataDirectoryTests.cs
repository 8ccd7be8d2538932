namespace Capstan.Server.Tests.Hosting;

using Capstan.Server.Configuration;

public sealed class DataDirectoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"capstan-data-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact(DisplayName = "Data dir: one server at a time; released on dispose")]
    public void Open_Twice_SecondRefusedUntilReleased()
    {
        using (DataDirectory.Open(_dir))
        {
            var error = Assert.Throws<SettingsException>(() => DataDirectory.Open(_dir));
            Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        }

        using var again = DataDirectory.Open(_dir);
        Assert.Equal(Path.GetFullPath(_dir), again.Path);
    }

    [Fact(DisplayName = "Data dir: the generated capture id is kept, so a restarted server comes back under the same id")]
    public void CaptureId_Generated_KeptAcrossRestarts()
    {
        string first;
        using (var dir = DataDirectory.Open(_dir))
        {
            first = dir.CaptureId();
            Assert.Equal(first, dir.CaptureId());
        }

        using var restarted = DataDirectory.Open(_dir);
        Assert.Equal(first, restarted.CaptureId());
    }

    [Fact(DisplayName = "Data dir: a capture-id file with garbage is an error that says what to do")]
    public void CaptureId_Garbage_Error()
    {
        using var dir = DataDirectory.Open(_dir);
        File.WriteAllText(Path.Combine(_dir, DataDirectory.CaptureIdFileName), "not an id!");
        Assert.Contains("remove the file", Assert.Throws<SettingsException>(dir.CaptureId).Message, StringComparison.Ordinal);
    }
}
