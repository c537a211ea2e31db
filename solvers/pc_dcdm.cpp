// PC type "dcdm": the DCDM network as a nonlinear preconditioner (see pc_dcdm.hpp).
#include "neurops/solvers/pc_dcdm.hpp"

#include <petsc/private/pcimpl.h>

#include <string>

#include "neurops/solvers/dcdm.hpp"

namespace neurops::solvers {

namespace {

struct PcDcdm {
  DcdmDirection net;
  std::string model;
  DcdmPrecision precision = DcdmPrecision::single;
  bool dirty = true;
};

PcDcdm* data_of(PC pc) { return static_cast<PcDcdm*>(pc->data); }

#define PCDCDM_TRY(obj, body)                                                                                    \
  try {                                                                                                          \
    body                                                                                                         \
  } catch (const std::exception& e) {                                                                            \
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(obj)), PETSC_ERR_USER_INPUT, "pc dcdm: %s", e.what()); \
  }

PetscErrorCode setup(PC pc) {
  PetscFunctionBeginUser;
  PcDcdm* s = data_of(pc);
  DM dm = nullptr;
  PetscCall(PCGetDM(pc, &dm));
  PCDCDM_TRY(pc, {
    if (s->dirty || !s->net.loaded()) {
      std::string option = "-";
      if (((PetscObject)pc)->prefix) option.append(((PetscObject)pc)->prefix);
      s->net.load(s->model.empty() ? default_dcdm_model() : s->model, s->precision, option.append("pc_dcdm_model"));
      s->dirty = false;
    }
    s->net.setup(dm, "pc dcdm");
  })
  PetscFunctionReturn(0);
}

PetscErrorCode apply(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  PCDCDM_TRY(pc, { data_of(pc)->net.apply(x, y); })
  PetscFunctionReturn(0);
}

PetscErrorCode set_from_options(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBeginUser;
  PcDcdm* s = data_of(pc);
  PetscOptionsHeadBegin(PetscOptionsObject, "PC DCDM options (network of the Deep Conjugate Direction Method)");
  char model[PETSC_MAX_PATH_LEN];
  PetscCall(PetscStrncpy(model, s->model.c_str(), sizeof model));
  PetscBool set = PETSC_FALSE;
  PetscCall(PetscOptionsString("-pc_dcdm_model", "Trained DCDM network (HDF5 checkpoint); default: the shipped model",
                               "PCDCDM", model, model, sizeof model, &set));
  if (set && s->model != model) {
    s->model = model;
    s->dirty = true;
  }
  const char* precisions[] = {"single", "double"};
  PetscInt precision = s->precision == DcdmPrecision::single ? 0 : 1;
  PetscCall(PetscOptionsEList("-pc_dcdm_precision", "Arithmetic of the network", "PCDCDM", precisions, 2,
                              precisions[precision], &precision, nullptr));
  const DcdmPrecision chosen = precision == 0 ? DcdmPrecision::single : DcdmPrecision::dual;
  if (chosen != s->precision) {
    s->precision = chosen;
    s->dirty = true;
  }
  PetscOptionsHeadEnd();
  PetscFunctionReturn(0);
}

PetscErrorCode view(PC pc, PetscViewer viewer) {
  PetscFunctionBeginUser;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii) PetscCall(PetscViewerASCIIPrintf(viewer, "  %s", data_of(pc)->net.describe().c_str()));
  PetscFunctionReturn(0);
}

PetscErrorCode destroy(PC pc) {
  PetscFunctionBeginUser;
  delete data_of(pc);
  pc->data = nullptr;
  PetscFunctionReturn(0);
}

}  // namespace

PetscErrorCode PCCreate_DCDM(PC pc) {
  PetscFunctionBeginUser;
  pc->data = new PcDcdm();
  pc->ops->setup = setup;
  pc->ops->apply = apply;
  pc->ops->setfromoptions = set_from_options;
  pc->ops->view = view;
  pc->ops->destroy = destroy;
  PetscFunctionReturn(0);
}

const DcdmDirection& pc_dcdm_direction(PC pc) {
  PetscBool same = PETSC_FALSE;
  NEUROPS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(pc), PCDCDM, &same));
  NEUROPS_CHECK(same, "expected a PC of type " << PCDCDM);
  return data_of(pc)->net;
}

}  // namespace neurops::solvers
