#pragma once
// A directory on a small disk, for the "disk full" regression tests.
//
// As root (CI containers, this sandbox) it is a real tmpfs of `bytes` bytes mounted for the test, so
// writes fail with ENOSPC exactly as on a full disk. Where mounting is not allowed it falls back to a
// mocked short write: the file-size limit RLIMIT_FSIZE (with SIGXFSZ ignored), under which write()
// past `bytes` fails with EFBIG; limit() applies it to this process, shell_prefix() to a child.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace neurops::test {

class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& dir, long bytes) : dir_(dir), bytes_(bytes) {
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "mount -t tmpfs -o size=" + std::to_string(bytes) + " tmpfs '" + dir_.string() + "' > /dev/null 2>&1";
    mounted_ = ::geteuid() == 0 && std::system(cmd.c_str()) == 0;
  }
  ~SmallDisk() {
    unlimit();
    if (mounted_) (void)std::system(("umount -l '" + dir_.string() + "' > /dev/null 2>&1").c_str());
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  bool is_tmpfs() const { return mounted_; }
  std::string kind() const { return mounted_ ? "a real tmpfs" : "RLIMIT_FSIZE (mocked short write)"; }

  /// Without a tmpfs: from now on this process cannot grow a file past `bytes` (until unlimit()).
  void limit() {
    if (mounted_ || limited_) return;
    ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit r = saved_;
    r.rlim_cur = static_cast<rlim_t>(bytes_);
    limited_ = ::setrlimit(RLIMIT_FSIZE, &r) == 0;
  }
  void unlimit() {
    if (limited_) ::setrlimit(RLIMIT_FSIZE, &saved_);
    limited_ = false;
  }
  /// Prefix for a shell command line that runs a program under the same limit.
  std::string shell_prefix() const {
    return mounted_ ? "" : "trap '' XFSZ; ulimit -f " + std::to_string(bytes_ / 1024) + "; ";
  }

 private:
  std::filesystem::path dir_;
  long bytes_;
  bool mounted_ = false, limited_ = false;
  rlimit saved_{};
};

}  // namespace neurops::test
