namespace Capstan.Runtime.Hosting;

using Microsoft.Extensions.Logging;

/// <summary>
/// Reports the failed steps of one real-time loop without flooding the log: the first failure of a
/// streak is logged with its exception, the streak's end with how many steps failed.
/// </summary>
internal sealed class StepFailures(ILogger? logger, string loop)
{
    private long _streak;

    /// <summary>Failed steps of the current streak.</summary>
    public long Streak => _streak;

    /// <summary>Records a failed step.</summary>
    public void Failed(Exception error)
    {
        if (_streak++ == 0)
        {
            logger?.LogWarning("{Loop}: a step failed ({Error}: {Message}); retrying every tick", loop, error.GetType().Name, error.Message);
            logger?.LogDebug(error, "{Loop}: the failed step", loop);
        }
    }

    /// <summary>Records a successful step (ends a streak).</summary>
    public void Succeeded()
    {
        if (_streak > 0)
        {
            logger?.LogInformation("{Loop}: steps succeed again after {Failed} failed ones", loop, _streak);
            _streak = 0;
        }
    }
}
