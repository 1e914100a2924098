"""RBF-kernel SVM on standardised features, C chosen on the dev split."""
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def build():
    return make_pipeline(StandardScaler(), SVC(C=3, gamma="scale"))
