namespace Capstan.Server;

using Capstan.Server.Configuration;

/// <summary>
/// The server's data directory: locked for the life of the process (two servers must not share
/// one), and the home of the generated capture id, so a restarted server comes back under the
/// same id (with a new processor epoch) and its old registration is replaced, not duplicated.
/// </summary>
public sealed class DataDirectory : IDisposable
{
    /// <summary>The lock file's name.</summary>
    public const string LockFileName = "capstan.lock";

    /// <summary>The capture id file's name.</summary>
    public const string CaptureIdFileName = "capture-id";

    private readonly FileStream _lock;

    private DataDirectory(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>Creates (if needed) and locks the directory; throws <see cref="SettingsException"/> when another process holds it.</summary>
    public static DataDirectory Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(full);
            var lockFile = new FileStream(System.IO.Path.Combine(full, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            lockFile.SetLength(0);
            using (var writer = new StreamWriter(lockFile, leaveOpen: true))
            {
                writer.Write(Environment.ProcessId);
            }

            lockFile.Flush();
            return new DataDirectory(full, lockFile);
        }
        catch (IOException error)
        {
            throw new SettingsException($"data-dir: {full} is in use by another capstan server ({error.Message})", error);
        }
        catch (UnauthorizedAccessException error)
        {
            throw new SettingsException($"data-dir: {full} cannot be written ({error.Message})", error);
        }
    }

    /// <summary>The capture id kept here, or a new one (stored for next time).</summary>
    public string CaptureId()
    {
        var file = System.IO.Path.Combine(Path, CaptureIdFileName);
        if (File.Exists(file))
        {
            var kept = File.ReadAllText(file).Trim();
            if (!CaptureIds.IsValid(kept))
            {
                throw new SettingsException($"data-dir: {file} holds '{kept}', which is not a capture id; remove the file or pass --capture-id");
            }

            return kept;
        }

        var id = CaptureIds.Generate();
        File.WriteAllText(file, id + Environment.NewLine);
        return id;
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();
}
